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
                    // Small losses (an MSE near the adding problem's 0.01) keep their digits.
                    shown.append(("valid", selection.higherIsBetter ? formatNumber(v, decimals: 3) : abs(v) < 1 ? formatScientific(v) : formatNumber(v, decimals: 2)))
                }
                progress.update(step, metrics: shown)
            }
        }
        if let run {
            // The global gradient norm before clipping at every evaluation point, on a log
            // axis: the exploding side of the gradient, beside the clip when there is one.
            var norms: [(x: Double, y: Double)] = []
            let clip = Double(options.clip)
            onEvaluation = { point in
                run.logMetrics(point.json)
                guard let norm = point["grad_norm"] else { return }
                norms.append((Double(point.step), norm))
                var series: [LineChart.Series] = [.init(name: "gradient norm before clipping", points: norms)]
                if clip > 0 { series.append(.init(name: "--clip \(formatNumber(clip, decimals: 2))", points: [(norms[0].x, clip), (norms[norms.count - 1].x, clip)], dashed: true)) }
                run.update("grad_norm.svg", LineChart(title: "Global gradient norm", xLabel: "training step", yLabel: "‖∇‖ (log scale)",
                                                      series: series, logY: true).svg)
            }
        }
    }
}
