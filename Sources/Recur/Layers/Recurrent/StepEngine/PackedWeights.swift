import CRecurKernels
import Foundation

/// Weights laid out once per pass in the panels of the packed step GEMM (`recur_pack`), so
/// that the per-step products read them without any copying: W^T (what forward multiplies
/// the states by) and W (what backward multiplies the gate gradients by), or blocks of their
/// rows (a GRU's n block).
///
/// `invalidate()` at the start of each forward and backward pass marks every layout stale (the
/// weights change between passes); the first request of a pass repacks. Requests may come
/// from several threads at once (the row blocks of one pass).
final class PackedWeights: @unchecked Sendable {
    private struct Key: Equatable {
        let parameter: ObjectIdentifier
        let firstRow: Int, count: Int, transposed: Bool
    }
    private struct Entry {
        let key: Key
        let storage: TensorStorage
        var generation: Int
    }
    private var entries: [Entry] = []
    private var generation = 0
    private let lock = NSLock()

    /// Called outside any parallel region, before a pass.
    func invalidate() { generation &+= 1 }

    /// The panels of W[firstRow ..< firstRow+count, :]^T, a [k, count] matrix (`transposed`),
    /// or of that block itself, [count, k], for the weight W [*, k].
    func panels(of w: Parameter, firstRow: Int, count: Int, transposed: Bool) -> UnsafePointer<Float> {
        let key = Key(parameter: ObjectIdentifier(w), firstRow: firstRow, count: count, transposed: transposed)
        lock.lock()
        defer { lock.unlock() }
        if let i = entries.firstIndex(where: { $0.key == key }) {
            if entries[i].generation != generation {
                pack(w, key, into: entries[i].storage.base)
                entries[i].generation = generation
            }
            return UnsafePointer(entries[i].storage.base)
        }
        let k = w.shape[1]
        let storage = TensorStorage(count: transposed ? recur_packed_size(Int32(k), Int32(count)) : recur_packed_size(Int32(count), Int32(k)))
        pack(w, key, into: storage.base)
        entries.append(Entry(key: key, storage: storage, generation: generation))
        return UnsafePointer(storage.base)
    }

    private func pack(_ w: Parameter, _ key: Key, into packed: UnsafeMutablePointer<Float>) {
        let k = w.shape[1], block = w.value.pointer + key.firstRow * k
        if key.transposed {
            // Element (kk, j) of W_block^T is W[firstRow + j, kk].
            recur_pack(Int32(k), Int32(key.count), block, 1, k, packed)
        } else {
            recur_pack(Int32(key.count), Int32(k), block, k, 1, packed)
        }
    }
}
