import Recur
import Foundation

/// The canonical performance configurations: one training step is
/// forward + loss + backward (+ clipping) + optimizer step on fixed random data, float32;
/// `inference` runs the forward pass only, in evaluation mode.
public struct BenchmarkConfig: Sendable {
    public let name: String
    /// Sequences (or tokens, for language models) one step processes.
    public let itemsPerStep: Int
    public let itemUnit: String
    /// GEMM floating-point operations of one forward pass (2·M·N·K per product).
    public let forwardFLOPs: Double
    public let inference: Bool
    let build: @Sendable () -> () -> Void

    /// Training ≈ 3 × forward (forward, input gradients, weight gradients).
    public var flopsPerStep: Double { inference ? forwardFLOPs : 3 * forwardFLOPs }

    /// A closure that runs one step; building it allocates the model and data.
    public func makeStep() -> () -> Void { build() }

    static func recurrentFLOPs(_ T: Int, _ B: Int, _ input: Int, _ H: Int, gates: Int, layers: Int, directions: Int) -> Double {
        var f = 0.0
        for l in 0..<layers {
            let inSize = l == 0 ? input : directions * H
            f += Double(directions) * 2 * Double(T * B * gates * H) * Double(inSize + H)
        }
        return f
    }

    static func classifier(_ name: String, cell: CellType, input: Int, T: Int, H: Int, B: Int, layers: Int, bidirectional: Bool,
                           classes: Int, clip: Float, inference: Bool = false) -> BenchmarkConfig {
        let gates = cell.gateCount, D = bidirectional ? 2 : 1
        let flops = recurrentFLOPs(T, B, input, H, gates: gates, layers: layers, directions: D) + 2 * Double(B * D * H * classes)
        return BenchmarkConfig(name: name, itemsPerStep: B, itemUnit: "sequences", forwardFLOPs: flops, inference: inference) {
            var rng = RandomGenerator(seed: 1)
            let model = SequenceModel(recurrent: cell.makeLayer(inputSize: input, hiddenSize: H, layers: layers, bidirectional: bidirectional, seed: 2),
                                      outputs: classes, rng: &rng)
            let x = Tensor(zeros: [T, B, input])
            rng.fillNormal(x)
            let targets = (0..<B).map { _ in Int32(rng.int(below: classes)) }
            let adam = Adam(parameters: model.parameters, learningRate: 1e-3)
            let ce = SoftmaxCrossEntropy(), mse = MeanSquaredError()
            let regression = classes == 1, values = targets.map { Float($0) }
            if inference {
                model.training = false
                return { _ = model(x) }
            }
            return trainingStep(model, adam, clip: clip) {
                let out = model(x)
                model.backward(regression ? mse(out, targets: values).gradient : ce(out, targets: targets).gradient)
            }
        }
    }

    static func languageModel(_ name: String, cell: CellType, size: Int, dropout: Float, inference: Bool = false) -> BenchmarkConfig {
        let (V, T, B, L) = (10_000, 35, 20, 2), gates = cell.gateCount
        let flops = recurrentFLOPs(T, B, size, size, gates: gates, layers: L, directions: 1) + 2 * Double(T * B * size * V)
        return BenchmarkConfig(name: name, itemsPerStep: T * B, itemUnit: "tokens", forwardFLOPs: flops, inference: inference) {
            let model = LanguageModel(cell: cell, vocabularySize: V, embeddingSize: size, hiddenSize: size, layers: L, dropout: dropout, seed: 3)
            var rng = RandomGenerator(seed: 4)
            let ids = (0..<(T * B)).map { _ in Int32(rng.int(below: V)) }, targets = (0..<(T * B)).map { _ in Int32(rng.int(below: V)) }
            let sgd = SGD(parameters: model.parameters, learningRate: 1)
            let ce = SoftmaxCrossEntropy()
            var state = model.zeroState(batch: B)
            if inference {
                model.training = false
                return { _ = model(ids, steps: T, batch: B, state: &state) }
            }
            return trainingStep(model, sgd, clip: 5) {
                model.backward(ce(model(ids, steps: T, batch: B, state: &state), targets: targets).gradient)
            }
        }
    }

    static var sentiment: BenchmarkConfig {
        let (T, B, H, E) = (500, 64, 100, 32)
        let flops = recurrentFLOPs(T, B, E, H, gates: 4, layers: 1, directions: 1) + 2 * Double(B * H)
        return BenchmarkConfig(name: "I-LSTM", itemsPerStep: B, itemUnit: "sequences", forwardFLOPs: flops, inference: false) {
            let model = SentimentModel(kind: .lstm100, vocabularySize: 2000, convention: .pytorch, seed: 5)
            var rng = RandomGenerator(seed: 6)
            let ids = (0..<(T * B)).map { _ in Int32(rng.int(below: 2000)) }, labels = (0..<B).map { _ in Float(rng.int(below: 2)) }
            let adam = Adam(parameters: model.parameters, learningRate: 1e-3)
            let bce = BinaryCrossEntropyWithLogits()
            return trainingStep(model, adam, clip: 0) {
                model.backward(bce(model(ids, steps: T, batch: B), targets: labels).gradient)
            }
        }
    }

    /// A step of the `Trainer` (zero gradients, `body`'s forward and backward, clipping, the
    /// optimizer step) on a fixed batch, so the benchmark times what training runs.
    static func trainingStep<Model: TrainableModel>(_ model: Model, _ optimizer: any Optimizer, clip: Float,
                                                    _ body: @escaping () -> Void) -> () -> Void {
        var options = TrainingOptions(length: .steps(.max), evaluateEvery: .steps(.max),
                                      selection: .init("none", higherIsBetter: true), learningRate: optimizer.learningRate)
        options.clip = clip
        let trainer = Trainer(task: FixedBatchTask(model: model, body: body), optimizer: optimizer, options: options,
                              shuffle: RandomGenerator(seed: 0))
        return { trainer.step() }
    }

    /// The benchmark's task: the same batch at every step.
    final class FixedBatchTask<Model: TrainableModel>: TrainingTask {
        let model: Model
        let batches = BatchSource.stream
        let body: () -> Void
        init(model: Model, body: @escaping () -> Void) { (self.model, self.body) = (model, body) }
        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            body()
            return StepLoss(loss: 0, weight: 1)
        }
        func validate() -> Metrics { [] }
    }

    /// Every configuration, in the order of the performance tables.
    public static let all: [BenchmarkConfig] = [
        classifier("P-LSTM", cell: .lstm, input: 1, T: 19, H: 128, B: 128, layers: 1, bidirectional: false, classes: 10, clip: 1),
        classifier("P-GRU", cell: .gru, input: 1, T: 19, H: 128, B: 128, layers: 1, bidirectional: false, classes: 10, clip: 1),
        classifier("P-RNN", cell: .rnn, input: 1, T: 19, H: 128, B: 128, layers: 1, bidirectional: false, classes: 10, clip: 1),
        classifier("S-LSTM", cell: .lstm, input: 20, T: 32, H: 32, B: 100, layers: 3, bidirectional: true, classes: 10, clip: 0),
        classifier("S-GRU", cell: .gru, input: 20, T: 32, H: 32, B: 100, layers: 3, bidirectional: true, classes: 10, clip: 0),
        classifier("S-RNN", cell: .rnn, input: 20, T: 32, H: 32, B: 100, layers: 3, bidirectional: true, classes: 10, clip: 0),
        languageModel("L-small", cell: .lstm, size: 200, dropout: 0),
        languageModel("L-medium", cell: .lstm, size: 650, dropout: 0.5),
        languageModel("L-GRU-small", cell: .gru, size: 200, dropout: 0),
        sentiment,
        classifier("T-LSTM", cell: .lstm, input: 1, T: 10, H: 10, B: 32, layers: 1, bidirectional: false, classes: 1, clip: 0),
        classifier("P-LSTM-infer", cell: .lstm, input: 1, T: 19, H: 128, B: 128, layers: 1, bidirectional: false, classes: 10, clip: 0, inference: true),
        classifier("S-LSTM-infer", cell: .lstm, input: 20, T: 32, H: 32, B: 100, layers: 3, bidirectional: true, classes: 10, clip: 0, inference: true),
        languageModel("L-small-infer", cell: .lstm, size: 200, dropout: 0, inference: true),
    ]

    public struct Measurement: Sendable {
        public let config: BenchmarkConfig
        public let msPerStep: Double
        public let steps: Int
        public var itemsPerSecond: Double { Double(config.itemsPerStep) / (msPerStep / 1000) }
        public var gflops: Double { config.flopsPerStep / (msPerStep / 1000) / 1e9 }
    }

    /// Times steps after `warmup`, for at least `minSeconds` (and at least `minSteps`);
    /// ms/step is the median of 5 equal slices, which resists noise from a shared machine.
    public func measure(warmup: Int = 3, minSteps: Int = 10, minSeconds: Double = 2) -> Measurement {
        let step = makeStep()
        for _ in 0..<warmup { step() }
        // Estimate the step time, then time five slices of equal step counts.
        let t0 = Date()
        step()
        let estimate = max(Date().timeIntervalSince(t0), 1e-6)
        let perSlice = max(minSteps / 5, Int(minSeconds / 5 / estimate), 1)
        var slices: [Double] = []
        for _ in 0..<5 {
            let s = Date()
            for _ in 0..<perSlice { step() }
            slices.append(Date().timeIntervalSince(s) * 1000 / Double(perSlice))
        }
        return Measurement(config: self, msPerStep: slices.sorted()[2], steps: perSlice * 5)
    }

    /// Single-precision GEMM throughput for n x n x n products, GFLOP/s (best of 5).
    public static func sgemmPeak(n: Int = 1024) -> Double {
        let a = Tensor(zeros: [n, n]), b = Tensor(zeros: [n, n]), c = Tensor(zeros: [n, n])
        var rng = RandomGenerator(seed: 7)
        rng.fillNormal(a)
        rng.fillNormal(b)
        var best = Double.infinity
        for i in 0..<7 {
            let s = Date()
            BLAS.matmul(a, b, into: c)
            let t = Date().timeIntervalSince(s)
            if i >= 2 { best = min(best, t) }
        }
        return 2 * Double(n * n * n) / best / 1e9
    }
}
