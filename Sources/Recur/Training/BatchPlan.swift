/// The batches of one epoch: which examples go together, in which order.
public enum BatchPlan {
    /// Examples per pool when bucketing: a pool is sorted by length and cut into batches, so
    /// that batches are of similar lengths but an epoch still mixes lengths in its order.
    public static let poolBatches = 50

    /// Every example of `order` (a permutation of the examples, carried from epoch to epoch)
    /// exactly once. `order` is shuffled in place first when asked. Without `lengths`:
    /// consecutive batches of `batchSize` in that order (the last may be shorter). With
    /// `lengths`: the order is taken in pools of `poolBatches` batches, each pool sorted by
    /// length (stable, so ties keep the shuffled order) and cut into batches, and the order of
    /// all batches is shuffled again; deterministic for the stream `rng`.
    public static func epoch(order: inout [Int], batchSize: Int, shuffle: Bool, lengths: [Int]? = nil,
                             rng: inout RandomGenerator) -> [[Int]] {
        precondition(batchSize >= 1, "BatchPlan: batchSize must be at least 1, got \(batchSize)")
        precondition(lengths == nil || lengths!.count == order.count, "BatchPlan: \(lengths?.count ?? 0) lengths for \(order.count) examples")
        if shuffle { rng.shuffle(&order) }
        guard let lengths else { return chunks(order, batchSize) }
        var batches: [[Int]] = []
        for pool in chunks(order, batchSize * poolBatches) {
            let sorted = pool.enumerated().sorted { (lengths[$0.element], $0.offset) < (lengths[$1.element], $1.offset) }.map(\.element)
            batches += chunks(sorted, batchSize)
        }
        rng.shuffle(&batches)
        return batches
    }

    static func chunks(_ items: [Int], _ size: Int) -> [[Int]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }
}
