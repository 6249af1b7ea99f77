import Recur
import Foundation

/// How far back the gradient reaches, cell by cell: seed 000's vanishing-gradient question
/// made visible. Each setting (a cell and an initialisation) gets a palindrome model of
/// `length` steps (seed 001's task: the answer is the first digit, so the loss at the last
/// step needs the first input), trained for each of `at` steps from the same start, and
/// `GradientFlow` measures ‖dL/dh_t‖ (and an LSTM's ‖dL/dc_t‖) on a fixed batch.
public struct GradientStudy: Sendable {
    public struct Setting: Sendable, Equatable {
        public var cell: CellType
        public var initialization: RecurrentInitialization
        public init(cell: CellType, initialization: RecurrentInitialization) { (self.cell, self.initialization) = (cell, initialization) }
        public var label: String { "\(cell.rawValue), \(initialization.rawValue) init" }
    }

    /// tanh RNN and LSTM, GRU with PyTorch's initialisation; the relu RNN with the identity (IRNN).
    public static let defaultSettings = [Setting(cell: .rnn, initialization: .pytorch), Setting(cell: .rnnRelu, initialization: .identity),
                                         Setting(cell: .lstm, initialization: .pytorch), Setting(cell: .gru, initialization: .pytorch)]

    public var settings = GradientStudy.defaultSettings
    /// T: steps per sequence.
    public var length = 100
    public var hidden = 128
    public var batchSize = 128
    /// Training steps at which to measure (0: at initialisation).
    public var at = [0]
    public var learningRate: Float = 1e-3
    public var clip: Float = 1
    public var seed: UInt64 = 42

    public init() {}

    public struct Run: Sendable {
        public let setting: Setting
        public let step: Int
        public let flow: GradientFlow
        public let trainLoss: Double?
        public let config: JSON

        public var json: JSON {
            .object([
                ("cell", .string(setting.cell.rawValue)), ("init", .string(setting.initialization.rawValue)), ("step", JSON(step)),
                ("gradient_norms", .array(flow.hidden.map { .number($0) })),
                ("gradient_horizon", flow.horizon.map { JSON($0) } ?? .null),
            ] + (flow.cell.map { [("cell_gradient_norms", .array($0.map { .number($0) }))] } ?? [])
              + [("train_loss", trainLoss.map { .number($0) } ?? .null), ("config", config)])
        }
    }

    func experiment(_ s: Setting, steps: Int) -> PalindromeExperiment {
        var e = PalindromeExperiment()
        (e.cell, e.initialization, e.length, e.hidden, e.batchSize) = (s.cell, s.initialization, length, hidden, batchSize)
        (e.steps, e.learningRate, e.clip, e.seed, e.convention) = (max(steps, 1), learningRate, clip, seed, .pytorch)
        (e.logEvery, e.validBatches) = (max(steps, 1), 1)
        return e
    }

    public func config(_ s: Setting) -> JSON {
        .object([("task", "gradients"), ("cell", .string(s.cell.rawValue)), ("init", .string(s.initialization.rawValue)),
                 ("length", JSON(length)), ("hidden", JSON(hidden)), ("batch_size", JSON(batchSize)),
                 ("at", .array(at.map { JSON($0) })), ("lr", JSON(learningRate)), ("clip", JSON(clip)), ("seed", JSON(Int(seed))),
                 ("threads", JSON(BLAS.threads))])
    }

    /// Every setting at every step of `at`; `progress(setting, step)` gives a training run its reporter.
    public func run(progress: (Setting, Int) -> ProgressReporter? = { _, _ in nil }) throws -> [Run] {
        // Every setting is checked against the memory budget before the first is run.
        let inputSize = PalindromeDataset(length: length, seed: seed).inputSize
        for s in settings { _ = try experiment(s, steps: 0).checkedArchitecture(inputSize: inputSize) }
        var runs: [Run] = []
        for s in settings {
            // The measuring batch: its own stream, the same for every setting and step.
            var data = PalindromeDataset(length: length, seed: seed &+ 7)
            let x = Tensor(zeros: [length, batchSize, data.inputSize])
            let targets = data.batch(batchSize, into: x)
            for step in at.sorted() {
                let e = experiment(s, steps: step)
                let model: SequenceModel, loss: Double?
                if step == 0 {
                    model = e.makeModel(inputSize: data.inputSize).model
                    loss = nil
                } else {
                    let trained = try e.train(progress: progress(s, step))
                    model = trained.model
                    loss = trained.trained.history.last?["train_loss"]
                }
                runs.append(Run(setting: s, step: step, flow: GradientFlow.measure(model, x: x, targets: targets), trainLoss: loss, config: config(s)))
            }
        }
        return runs
    }

    /// Norm against steps back, log scale, one line per run.
    public static func chart(_ runs: [Run], length: Int) -> LineChart {
        LineChart(title: "Gradient reaching each step: ‖dL/dh_t‖, loss at the last of \(length) steps", xLabel: "steps back from the loss (k = T − 1 − t)",
                  yLabel: "mean ‖dL/dh_t‖ (log scale)",
                  series: runs.enumerated().map { i, r in
                      .init(name: "\(r.setting.label), step \(r.step)", points: r.flow.hidden.enumerated().map { (Double($0), $1) },
                            dashed: r.step > 0 && runs.contains { $0.setting == r.setting && $0.step < r.step },
                            colorIndex: GradientStudy.colour(of: r.setting, in: runs))
                  }, logY: true)
    }

    static func colour(of s: Setting, in runs: [Run]) -> Int {
        var seen: [Setting] = []
        for r in runs where !seen.contains(r.setting) { seen.append(r.setting) }
        return seen.firstIndex(of: s) ?? 0
    }

    public static func table(_ runs: [Run]) -> MarkdownTable {
        var t = MarkdownTable(header: ["cell", "init", "step", "‖dL/dh‖ k=0", "k=T/2", "k=T−1", "ratio T−1 / 0", "horizon (100x)"], rightAligned: [2, 3, 4, 5, 6, 7])
        for r in runs {
            let n = r.flow.hidden, last = n.count - 1
            t.append([r.setting.cell.rawValue, r.setting.initialization.rawValue, "\(r.step)", formatScientific(n[0]), formatScientific(n[last / 2]),
                      formatScientific(n[last]), formatScientific(n[last] / n[0]), r.flow.horizon.map { "\($0)" } ?? "none within T"])
        }
        return t
    }
}
