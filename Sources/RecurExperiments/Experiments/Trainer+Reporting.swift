import Recur
import Foundation

extension Trainer {
    /// Shows progress on `progress` (epoch, the interval's training metrics, the last
    /// validation metric) and appends every evaluation point to `run`'s `metrics.jsonl`.
    func report(to progress: ProgressReporter?, run: RunDirectory?) {
        let selection = options.selection
        if let progress {
            onStep = { [unowned self] step, _, epoch, metrics in
                var shown: [(String, String)] = []
                if let epoch, case .epochs(let e) = self.options.length { shown.append(("epoch", "\(epoch)/\(e)")) }
                for (name, value) in metrics {
                    let short = name.replacingOccurrences(of: "train_", with: "")
                    shown.append((short == "perplexity" ? "ppl" : short == "accuracy" ? "acc" : short,
                                  formatNumber(value, decimals: short == "accuracy" ? 3 : short == "perplexity" ? 1 : 4)))
                }
                if let v = self.lastEvaluation?[selection.metric] {
                    shown.append(("valid", formatNumber(v, decimals: selection.higherIsBetter ? 3 : 2)))
                }
                progress.update(step, metrics: shown)
            }
        }
        if let run { onEvaluation = { run.logMetrics($0.json) } }
    }
}
