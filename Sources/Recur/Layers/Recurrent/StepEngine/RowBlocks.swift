/// The fixed partition of a batch into the row blocks that the step engine runs
/// independently: each block goes through every time step on its own, so blocks can run on
/// different cores with no synchronisation per step.
///
/// The partition depends on the batch size only (never on the number of threads), so results
/// are the same at every `--threads`: blocks of at most `maximumRows` rows, as even as possible
/// (100 rows: four of 25; 128: four of 32; 20: one).
public enum RowBlocks {
    /// Large enough for the step GEMM to reuse each weight panel over many rows, small enough
    /// for a typical batch (64-128) to give two cores two or more blocks each.
    public static let maximumRows = 32

    /// Consecutive ranges covering 0..<batch.
    public static func partition(batch: Int) -> [Range<Int>] {
        guard batch > 0 else { return [] }
        let count = (batch + maximumRows - 1) / maximumRows
        var blocks: [Range<Int>] = []
        var start = 0
        for i in 0..<count {
            let size = batch / count + (i < batch % count ? 1 : 0)
            blocks.append(start..<(start + size))
            start += size
        }
        return blocks
    }
}
