import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import COpenBLAS
#endif

/// The one matrix-product entry point: single-precision GEMM on row-major matrices,
/// OpenBLAS on Linux and Accelerate on macOS.
///
/// Threads: OpenBLAS always runs on one thread. A large product is cut into a fixed number of
/// parts (by its shape, never by the thread count) that up to `threads` workers share, so a
/// result is the same to the last bit at every `--threads`: OpenBLAS's own threading changes
/// the rounding with the thread count, and so does any other partition of a product.
public enum BLAS {
    /// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, all row-major.
    ///
    /// `lda`, `ldb`, `ldc` are row strides in floats, so a call can work on a block of a larger
    /// matrix (e.g. one direction's half of a [T*B, 2H] output). op(A) is A^T when `transA`
    /// (A is then stored [k, m]).
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= max(1, transA ? m : k), "gemm: lda \(lda) < \(transA ? m : k) for op(A) [\(m), \(k)]")
        precondition(ldb >= max(1, transB ? k : n), "gemm: ldb \(ldb) < \(transB ? k : n) for op(B) [\(k), \(n)]")
        precondition(ldc >= max(1, n), "gemm: ldc \(ldc) < n \(n) for C [\(m), \(n)]")
        _ = defaultThreads
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS would leave C untouched; the mathematical answer is beta * C.
            for i in 0..<m { scale(c + i * ldc, count: n, by: beta) }
            return
        }
        let parts = partCount(m: m, n: n, k: k)
        if parts == 1 {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let operands = UncheckedSendable((a, b, c))
        if k >= max(m, n) {
            // A weight gradient (k: every step of every row): cut the sum itself. Part 0 goes
            // into C with the caller's beta, the others into scratch, added after in order.
            let chunk = ((k + parts - 1) / parts + 15) / 16 * 16, count = (k + chunk - 1) / chunk
            let scratch = ScratchPool.shared.take((count - 1) * m * n)
            defer { ScratchPool.shared.give(scratch) }
            let partials = UncheckedSendable(scratch.base)
            BlockQueue.run(count, workers: threads) { q in
                let (a, b, c) = operands.value
                let lo = q * chunk, size = min(chunk, k - lo)
                let aq = transA ? a + lo * lda : a + lo, bq = transB ? b + lo : b + lo * ldb
                if q == 0 {
                    sgemm(transA, transB, m, n, size, alpha, aq, lda, bq, ldb, beta, c, ldc)
                } else {
                    sgemm(transA, transB, m, n, size, alpha, aq, lda, bq, ldb, 0, partials.value + (q - 1) * m * n, n)
                }
            }
            for q in 1..<count {
                let p = scratch.base + (q - 1) * m * n
                for i in 0..<m { VectorMath.axpy(1, p + i * n, c + i * ldc, count: n) }
            }
            return
        }
        // Otherwise cut the larger side of C, so that the operand each part packs again is the smaller.
        let byRows = m >= n, side = byRows ? m : n
        let chunk = ((side + parts - 1) / parts + 15) / 16 * 16
        BlockQueue.run((side + chunk - 1) / chunk, workers: threads) { q in
            let (a, b, c) = operands.value
            let lo = q * chunk, count = min(chunk, side - lo)
            if byRows {
                sgemm(transA, transB, count, n, k, alpha, transA ? a + lo : a + lo * lda, lda, b, ldb, beta, c + lo * ldc, ldc)
            } else {
                sgemm(transA, transB, m, count, k, alpha, a, lda, transB ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc)
            }
        }
    }

    /// How many parts a product is cut into: one below 4 MFLOP (a part would cost more to hand
    /// to another core than it saves), four above 1 GFLOP, else two. A function of the shape
    /// only, so every thread count computes the same parts. A product whose inner size k is the
    /// largest (a weight gradient over every step) is cut along k, into partial sums added in
    /// order; any other along the larger side of C.
    static func partCount(m: Int, n: Int, k: Int) -> Int {
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        if flops < 4e6 || max(m, n, k) < 64 { return 1 }
        return flops < 1e9 ? 2 : 4
    }

    fileprivate static func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// Tensor form: C = alpha * op(A) op(B) + beta * C for 2-D tensors.
    public static func matmul(_ a: Tensor, transposed transA: Bool = false, _ b: Tensor,
                              transposed transB: Bool = false, into c: Tensor,
                              alpha: Float = 1, beta: Float = 0) {
        precondition(a.rank == 2 && b.rank == 2 && c.rank == 2,
                     "matmul needs 2-D tensors, got \(a.shape), \(b.shape), \(c.shape)")
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        precondition(k == kb && c.shape == [m, n],
                     "matmul: op(A) \(m)x\(k) times op(B) \(kb)x\(n) cannot go into C \(c.shape)")
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
             a: a.pointer, lda: a.shape[1], b: b.pointer, ldb: b.shape[1],
             beta: beta, c: c.pointer, ldc: n)
    }

    @inlinable
    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by beta: Float) {
        if beta == 0 { x.update(repeating: 0, count: count) } else { for i in 0..<count { x[i] *= beta } }
    }

    /// OpenBLAS runs on one thread: Recur's own workers split the work (see `threads`), and
    /// OpenBLAS's idle workers would busy-wait on the cores they need.
    @usableFromInline static let defaultThreads: Void = {
        #if !canImport(Accelerate)
        openblas_set_num_threads(1)
        #endif
    }()

    #if !canImport(Accelerate)
    /// The OpenBLAS kernel family in use ("SkylakeX", "Haswell", ...), for reports. OpenBLAS
    /// picks it at load time from the CPU, or from OPENBLAS_CORETYPE when that is set; on
    /// AVX-512 CPUs its AVX-512 kernels (SkylakeX, Cooperlake) do about twice the SGEMM FLOP/s
    /// of its Haswell (AVX2) kernels.
    public static var coreName: String {
        _ = defaultThreads
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }
    #else
    public static var coreName: String { "Accelerate" }
    #endif

    /// Recur's thread budget (--threads): the workers that share the row blocks of the
    /// recurrent step engine, the directions of a bidirectional layer and the parts of large
    /// products. Results do not depend on it. Set it between calls, not during one.
    nonisolated(unsafe) public static var threads = 1 {
        didSet { threads = max(1, threads) }
    }
}

/// Reusable float buffers for the partial sums of cut products: taken and given back around
/// one product, so that training steps allocate nothing once the pool has grown. Safe to use
/// from several threads.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    private let lock = NSLock()
    private var free: [TensorStorage] = []

    /// A buffer of at least `count` floats (contents undefined).
    func take(_ count: Int) -> TensorStorage {
        lock.lock()
        defer { lock.unlock() }
        if let i = free.firstIndex(where: { $0.count >= count }) { return free.remove(at: i) }
        return TensorStorage(count: count)
    }

    func give(_ storage: TensorStorage) {
        lock.lock()
        defer { lock.unlock() }
        free.append(storage)
    }
}
