import Foundation

/// Seed 000: keyword spotting on Speech Commands with stacked or bidirectional recurrent
/// models over MFCC frames. Protocol: validate every 20 steps; whenever validation accuracy
/// reaches its best so far (>=, as the seed), measure test accuracy; report that, the final
/// test accuracy and a confusion matrix.
public struct SpeechExperiment: Sendable {
    public enum Model: String, Sendable, CaseIterable, Codable { case rnn, bidir }

    public var model: Model = .rnn
    public var cell: CellType = .lstm
    public var hidden = 32
    public var layers = 3
    /// An LSTM's projection size (PyTorch `proj_size`); 0: none.
    public var projectionSize = 0
    public var initialization: RecurrentInitialization = .pytorch
    /// How the bidir model combines its directions.
    public var merge: BidirectionalMerge = .concat
    public var epochs = 5
    public var batchSize = 100
    public var learningRate: Float = 0.003
    public var validateEvery = 20
    public var seed: UInt64 = 42
    public var sampleRate = 16000
    public var clipSeconds = 1.0
    public var coefficients = 20, fftSize = 2048, hop = 512, melBands = 128

    public init() {}

    public var name: String { (model == .bidir ? "Bidir-" : "RNN-") + cell.displayName }

    public var config: JSON {
        .object([
            ("task", "speech"), ("model", .string(model.rawValue)), ("cell", .string(cell.rawValue)), ("hidden", JSON(hidden)),
            ("layers", JSON(layers)), ("epochs", JSON(epochs)), ("batch_size", JSON(batchSize)), ("lr", JSON(learningRate)),
            ("validate_every", JSON(validateEvery)), ("seed", JSON(Int(seed))), ("sample_rate", JSON(sampleRate)),
            ("n_mfcc", JSON(coefficients)), ("n_fft", JSON(fftSize)), ("hop", JSON(hop)), ("n_mels", JSON(melBands)),
            ("threads", JSON(BLAS.threads)),
        ] + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : [])
          + (initialization != .pytorch ? [("init", .string(initialization.rawValue))] : [])
          + (merge != .concat && model == .bidir ? [("merge", .string(merge.rawValue))] : []))
    }

    /// MFCC frames of every clip: [clips][frames * coefficients], computed once (in parallel).
    public struct Features: Sendable {
        public let frames: Int, coefficients: Int
        public let values: [[Float]]
        public let labels: [Int]
        public let secondsPerClip: Double
    }

    public func features(_ clips: [SpeechCommandsDataset.Clip]) throws -> Features {
        let mfcc = MFCC(sampleRate: sampleRate, coefficients: coefficients, fftSize: fftSize, hop: hop, melBands: melBands)
        let length = Int(Double(sampleRate) * clipSeconds)
        let start = Date()
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: clips.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let errors = UnsafeMutableBufferPointer<RecurError?>.allocate(capacity: clips.count)
        errors.initialize(repeating: nil)
        defer { errors.deallocate() }
        let box = (UncheckedSendable(results), UncheckedSendable(errors))
        DispatchQueue.concurrentPerform(iterations: clips.count) { i in
            do {
                let wav = try WAVFile(contentsOf: clips[i].path)
                let audio = fitLength(Resampler.resample(wav.samples, from: wav.sampleRate, to: sampleRate), length)
                box.0.value[i] = mfcc(audio).flatMap { $0 }
            } catch let e as RecurError { box.1.value[i] = e } catch { box.1.value[i] = RecurError("\(clips[i].path): \(error)", fix: "") }
        }
        if let e = errors.first(where: { $0 != nil }) { throw e! }
        return Features(frames: mfcc.frameCount(samples: length), coefficients: coefficients, values: Array(results),
                        labels: clips.map(\.label), secondsPerClip: Date().timeIntervalSince(start) / Double(max(clips.count, 1)))
    }

    public struct ValidationPoint: Sendable, Codable {
        public let step: Int, trainLoss: Double, validAccuracy: Double
    }

    /// Everything a resumed run needs besides the weights and the optimizer state.
    struct Progress: Codable {
        var epoch = 0, step = 0, runningCount = 0
        var runningLoss = 0.0, best = -1.0, testAtBest = 0.0, trainSeconds = 0.0
        var order: [Int] = []
        var history: [ValidationPoint] = []
    }

    /// The saved architecture: a `sequence` model file that `recur export` and `recur infer` read.
    func modelConfig(classes: Int) -> ModelConfig {
        ModelConfig(sequence: cell, inputSize: coefficients, hiddenSize: hidden, layers: layers, bidirectional: model == .bidir,
                    outputSize: classes, projectionSize: projectionSize, merge: model == .bidir ? merge : .concat)
    }

    public struct Result: Sendable {
        public let name: String
        public let bestValidAccuracy: Double, testAccuracyAtBest: Double, finalTestAccuracy: Double, testLoss: Double
        /// confusion[true][predicted], final model on the test split.
        public let confusion: [[Int]]
        public let history: [ValidationPoint]
        public let seconds: Double, trainSeconds: Double, epochs: Int, steps: Int, sequences: Int
        public let parameterCount: Int
        public let config: JSON

        public var json: JSON {
            .object([
                ("test_accuracy", .number(testAccuracyAtBest)), ("best_valid_accuracy", .number(bestValidAccuracy)),
                ("final_test_accuracy", .number(finalTestAccuracy)), ("test_loss", .number(testLoss)),
                ("confusion_matrix", .array(confusion.map { .array($0.map { JSON($0) }) })),
                ("seconds", .number(seconds)), ("seconds_per_epoch", .number(trainSeconds / Double(max(epochs, 1)))),
                ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))),
                ("sequences_per_second", .number(Double(sequences) / max(trainSeconds, 1e-9))),
                ("parameters", JSON(parameterCount)), ("config", config),
            ])
        }
    }

    func batch(_ f: Features, _ rows: ArraySlice<Int>) -> Tensor {
        let T = f.frames, C = f.coefficients, B = rows.count
        let x = Tensor(zeros: [T, B, C])
        for (b, r) in rows.enumerated() {
            f.values[r].withUnsafeBufferPointer { v in
                for t in 0..<T { (x.pointer + (t * B + b) * C).update(from: v.baseAddress! + t * C, count: C) }
            }
        }
        return x
    }

    func evaluate(_ net: SequenceModel, _ f: Features, classes: Int) -> (accuracy: Double, loss: Double, confusion: [[Int]]) {
        net.training = false
        defer { net.training = true }
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var loss = 0.0
        let ce = SoftmaxCrossEntropy()
        for start in stride(from: 0, to: f.labels.count, by: 256) {
            let rows = Array(start..<min(start + 256, f.labels.count))
            let logits = net(batch(f, rows[...]))
            let targets = rows.map { Int32(f.labels[$0]) }
            loss += Double(ce(logits, targets: targets).value) * Double(rows.count)
            for (y, predicted) in zip(targets, logits.rowArgmax()) { confusion[Int(y)][predicted] += 1 }
        }
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        return (Double(correct) / Double(max(f.labels.count, 1)), loss / Double(max(f.labels.count, 1)), confusion)
    }

    /// Trains and evaluates. `save`: after every epoch the full training state goes to `save`
    /// (for `resume`, which continues bit-identically), and the weights at each new best
    /// validation accuracy to `<save>.best.safetensors`.
    public func run(train: Features, valid: Features, test: Features, classes: Int,
                    save: String? = nil, resume: String? = nil,
                    progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        var rng = RandomGenerator(seed: seed)
        let layer = cell.makeLayer(inputSize: coefficients, hiddenSize: hidden, layers: layers, bidirectional: model == .bidir,
                                   projectionSize: projectionSize, initialization: initialization,
                                   merge: model == .bidir ? merge : .concat, seed: rng.next())
        let net = SequenceModel(recurrent: layer, outputs: classes, rng: &rng)
        let adam = Adam(parameters: net.parameters, learningRate: learningRate)
        let ce = SoftmaxCrossEntropy()
        var state = Progress(order: Array(train.labels.indices))
        let format = "recur-speech-1", identity = TrainingCheckpoint.identity(config), architecture = modelConfig(classes: classes)
        if let resume {
            let saved = try TrainingCheckpoint.resume(resume, model: net, optimizer: adam, format: format, identity: identity,
                                                      randomCount: 1, as: Progress.self)
            (state, rng) = (saved.progress, saved.random[0])
            guard state.order.count == train.labels.count else {
                throw RecurError("\(resume): saved for \(state.order.count) training clips, this data has \(train.labels.count)", fix: "resume with the same data")
            }
        }
        var (order, history, best, testAtBest) = (state.order, state.history, state.best, state.testAtBest)
        var (step, runningLoss, runningCount, trainSeconds) = (state.step, state.runningLoss, state.runningCount, state.trainSeconds)
        for epoch in (state.epoch + 1)..<(epochs + 1) {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
            for s in stride(from: 0, to: order.count, by: batchSize) {
                let rows = order[s..<min(s + batchSize, order.count)]
                let t0 = Date()
                net.zeroGrad()
                let logits = net(batch(train, rows))
                let loss = ce(logits, targets: rows.map { Int32(train.labels[$0]) })
                net.backward(loss.gradient)
                adam.step()
                trainSeconds += Date().timeIntervalSince(t0)
                step += 1
                runningLoss += Double(loss.value)
                runningCount += 1
                if step % validateEvery == 0 {
                    let v = evaluate(net, valid, classes: classes).accuracy
                    if v >= best {
                        best = v
                        testAtBest = evaluate(net, test, classes: classes).accuracy
                        if let save { try TrainingCheckpoint.saveBest(net, format: format, identity: identity, architecture: architecture, save: save) }
                    }
                    let point = ValidationPoint(step: step, trainLoss: runningLoss / Double(runningCount), validAccuracy: v)
                    history.append(point)
                    run?.logMetrics(.object([("step", JSON(step)), ("epoch", JSON(epoch)), ("train_loss", .number(point.trainLoss)),
                                             ("valid_accuracy", .number(v)), ("test_accuracy_at_best", .number(testAtBest))]))
                    runningLoss = 0; runningCount = 0
                }
                progress?.update(step, metrics: [("epoch", "\(epoch)/\(epochs)"), ("loss", formatNumber(Double(loss.value))),
                                                 ("valid", history.last.map { formatNumber($0.validAccuracy, decimals: 3) } ?? "-")])
            }
            if let save {
                let p = Progress(epoch: epoch, step: step, runningCount: runningCount, runningLoss: runningLoss, best: best,
                                 testAtBest: testAtBest, trainSeconds: trainSeconds, order: order, history: history)
                try TrainingCheckpoint.save(net, optimizer: adam, progress: p, random: [rng], format: format, identity: identity,
                                            architecture: architecture, to: save)
            }
        }
        let final = evaluate(net, test, classes: classes)
        if best < 0 {  // fewer steps than one validation interval
            best = evaluate(net, valid, classes: classes).accuracy
            testAtBest = final.accuracy
        }
        return Result(name: name, bestValidAccuracy: best, testAccuracyAtBest: testAtBest, finalTestAccuracy: final.accuracy,
                      testLoss: final.loss, confusion: final.confusion, history: history, seconds: Date().timeIntervalSince(start),
                      trainSeconds: trainSeconds, epochs: epochs, steps: step, sequences: epochs * order.count,
                      parameterCount: net.parameterCount, config: config)
    }
}

/// Lets worker closures write disjoint slots of a buffer.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
