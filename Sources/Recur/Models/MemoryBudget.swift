import Foundation

/// The memory a run may use: the machine's physical memory, or the container's limit
/// (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`) when lower. Configurations whose
/// estimate exceeds it are refused before anything is allocated, so the kernel's
/// out-of-memory killer never has to stop a run.
public enum MemoryBudget {
    /// Bytes available to this process.
    public static var available: Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        let limits = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"].compactMap { path -> Int? in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))  // "max" (no limit) is nil
        }
        return ([physical] + limits.filter { $0 > 0 }).min()!
    }

    /// Throws when `bytes` (nil: beyond counting) exceeds 90% of `available`.
    /// - what: the work, e.g. "training lstm with 4096 hidden units on batches of 128 x 500 steps".
    /// - fix: what to make smaller, in the caller's terms.
    public static func check(_ bytes: Int?, what: String, fix: String) throws {
        let limit = available / 10 * 9
        guard let bytes, bytes <= limit else {
            throw RecurError("\(what) needs about \(bytes.map(format) ?? "more than 8 EiB") of memory, and \(format(limit)) is available",
                             fix: fix)
        }
    }

    /// Refuses to train `model` on batches of `batch` sequences of `steps` steps when its
    /// estimate (`ModelConfig.trainingBytes`) exceeds the budget.
    public static func check(training model: ModelConfig, steps: Int, batch: Int) throws {
        try model.validate(source: "the model configuration")
        try check(model.trainingBytes(steps: steps, batch: batch),
                  what: "training this \(model.task == .jordan ? "Jordan" : model.cell.rawValue) model (\(model.parameterCount) parameters) on batches of \(batch) sequences of \(steps) steps",
                  fix: "use a smaller `hidden`, `layers` or `batchSize`, or shorter sequences")
    }

    /// 1536 -> "1.5 KiB".
    public static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), i = 0
        while value >= 1024 && i < units.count - 1 { value /= 1024; i += 1 }
        return i == 0 ? "\(bytes) bytes" : String(format: "%.1f", value) + " " + units[i]
    }
}
