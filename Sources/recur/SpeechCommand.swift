import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct SpeechCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speech",
        abstract: "Seed 000: keyword spotting on a Speech Commands folder with stacked or bidirectional RNN/LSTM/GRU.",
        discussion: "Clips are resampled to 16 kHz, padded or cut to 1 s, and turned into librosa-equal MFCCs (32 frames x 20). "
            + "Defaults are the seed's: classes one,two,three; hidden 32, 3 layers, batch 100, 5 epochs, Adam 0.003, validation "
            + "every 20 steps; the reported test accuracy is the one measured when validation accuracy was best. "
            + "--compare runs rnn and bidir with lstm, gru, rnn and rnn-relu."
    )

    @Option(help: ArgumentHelp("Speech Commands root: class folders plus validation_list.txt and testing_list.txt.", valueName: "dir")) var data: String
    @Option(help: "Comma-separated class folders, or 'all' (every folder but _background_noise_).") var classes: String = "one,two,three"
    @Option(help: "rnn (stacked, last step -> Linear) or bidir (forward and reverse final states -> Linear).") var model: SpeechExperiment.Model = .rnn
    @Option(help: "Cell.") var cell: CellType = .lstm
    @Option(help: "Hidden units.") var hidden: Int = 32
    @Option(help: "Stacked layers.") var layers: Int = 3
    @Option(name: .customLong("init"), help: "Recurrent initialisation: pytorch, keras, fan-in, orthogonal, identity (IRNN, for rnn-relu).")
    var initialization: RecurrentInitialization = .pytorch
    @OptionGroup var projection: ProjectionOption
    @Option(help: "With --model bidir: how the two directions' final states combine: concat (PyTorch), sum, mean, multiply (Keras merge_mode).")
    var merge: BidirectionalMerge = .concat
    @Option(help: "Epochs.") var epochs: Int = 5
    @Option(help: "Clips per batch.") var batchSize: Int = 100
    @Option(help: "Learning rate (Adam).") var lr: Float = 0.003
    @Option(help: "Validate every N steps.") var validateEvery: Int = 20
    @Option(help: "Sample rate clips are resampled to.") var sampleRate: Int = 16000
    @Option(help: "MFCC coefficients.") var nMfcc: Int = 20
    @Option(help: "FFT size (a power of two).") var nFft: Int = 2048
    @Option(help: "Hop between frames.") var hop: Int = 512
    @Option(help: "Mel bands.") var nMels: Int = 128
    @Flag(help: "Run all 8 model/cell combinations (the seed's methods loop).") var compare = false
    @OptionGroup var training: TrainingFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        try projection.validate(cell: cell, hidden: hidden)
        guard merge == .concat || model == .bidir || compare else { throw ValidationError("--merge needs --model bidir") }
        try training.validate(single: !compare, mode: "--compare")
         guard nFft & (nFft - 1) == 0 else { throw ValidationError("--n-fft must be a power of two (e.g. 2048), got \(nFft)") }
        guard nMfcc <= nMels else { throw ValidationError("--n-mfcc (\(nMfcc)) must be at most --n-mels (\(nMels))") }

    }

    func run() throws {
        let out = try common.prepare()
        let requested = classes == "all" ? nil : try parseList(classes, option: "--classes", expected: "folder names such as one,two,three") { $0 }
        let dataset = try SpeechCommandsDataset(root: data, classes: requested)
        for w in dataset.warnings { common.log("warning: \(w)") }
        common.log("classes \(dataset.classes.joined(separator: ",")): \(dataset.train.count) train, \(dataset.valid.count) valid, \(dataset.test.count) test clips")
        var base = SpeechExperiment()
        (base.model, base.cell, base.hidden, base.layers, base.epochs, base.batchSize) = (model, cell, hidden, layers, epochs, batchSize)
        (base.learningRate, base.validateEvery, base.seed, base.sampleRate) = (lr, validateEvery, common.seed, sampleRate)
        (base.coefficients, base.fftSize, base.hop, base.melBands) = (nMfcc, nFft, hop, nMels)
        (base.projectionSize, base.initialization, base.merge) = (projection.projSize, initialization, merge)
        base.patience = training.patience
        let start = Date()
        let train = try base.features(dataset.train), valid = try base.features(dataset.valid), test = try base.features(dataset.test)
        let clips = dataset.train.count + dataset.valid.count + dataset.test.count
        let featureSeconds = Date().timeIntervalSince(start)
        common.log("MFCC features: \(clips) clips in \(formatNumber(featureSeconds, decimals: 2)) s (\(formatNumber(featureSeconds / Double(clips) * 1000, decimals: 2)) ms per clip, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        var runs = [base]
        if compare {
            runs = [SpeechExperiment.Model.rnn, .bidir].flatMap { m in [CellType.lstm, .gru, .rnn, .rnnRelu].map { c in
                var e = base
                (e.model, e.cell, e.projectionSize) = (m, c, c == .lstm ? base.projectionSize : 0)
                return e
            } }
        }
        var results: [SpeechExperiment.Result] = []
        for e in runs {
            let steps = epochs * ((train.labels.count + batchSize - 1) / batchSize)
            let progress = ProgressReporter(total: steps, label: e.name, plainEvery: max(validateEvery, steps / 5), enabled: !common.quiet)
            let dir = compare ? try out.subdirectory(e.name.lowercased()) : out
            let r = try training.run {
                try e.run(train: train, valid: valid, test: test, classes: dataset.classes.count, classNames: dataset.classes,
                          save: training.save, resume: training.resume, progress: progress, run: dir)
            }
            try write(r, dataset.classes, featureSeconds / Double(clips), to: dir)
            common.log("\(e.name): test accuracy at best validation \(formatNumber(r.testAccuracyAtBest, decimals: 4)), final \(formatNumber(r.finalTestAccuracy, decimals: 4)), \(formatNumber(r.trainSeconds / Double(epochs), decimals: 2)) s/epoch")
            results.append(r)
        }
        if compare {
            try out.write("report.md", "# Keyword spotting comparison (seed 000)\n\n\(Self.table(results).markdown)\n![validation accuracy](validation_accuracy.svg)\n")
            try out.write("validation_accuracy.svg", Self.curves(results).svg)
            try common.finishComparison(out, runs: results.map(\.json), table: Self.table(results),
                                        extra: [("mfcc_ms_per_clip", .number(featureSeconds / Double(clips) * 1000))])
        } else {
            common.emit(results[0].json)
        }
    }

    static func table(_ results: [SpeechExperiment.Result]) -> MarkdownTable {
        var t = MarkdownTable(header: ["model", "best valid", "test at best valid", "final test", "s/epoch"], rightAligned: [1, 2, 3, 4])
        for r in results {
            t.append([r.name, formatNumber(r.bestValidAccuracy, decimals: 4), formatNumber(r.testAccuracyAtBest, decimals: 4),
                      formatNumber(r.finalTestAccuracy, decimals: 4), formatNumber(r.trainSeconds / Double(max(r.epochs, 1)), decimals: 2)])
        }
        return t
    }

    static func curves(_ results: [SpeechExperiment.Result]) -> LineChart {
        LineChart(title: "Validation accuracy", xLabel: "step", yLabel: "accuracy",
                  series: results.map { r in .init(name: r.name, points: r.history.map { (Double($0.step), $0.validAccuracy) }) }, yRange: 0...1.04)
    }

    func write(_ r: SpeechExperiment.Result, _ classes: [String], _ secondsPerClip: Double, to dir: RunDirectory) throws {
        var confusion = MarkdownTable(header: ["true \\ predicted"] + classes, rightAligned: Set(1...classes.count))
        for (i, row) in r.confusion.enumerated() { confusion.append([classes[i]] + row.map(String.init)) }
        try dir.write("validation_accuracy.svg", Self.curves([r]).svg)
        try dir.write("report.md", """
        # Keyword spotting: \(r.name)

        \(Self.table([r]).markdown)
        MFCC extraction: \(formatNumber(secondsPerClip * 1000, decimals: 2)) ms per clip.

        ## Confusion matrix (final model, test split)

        \(confusion.markdown)
        ![validation accuracy](validation_accuracy.svg)
        """)
        try dir.writeResults(r.json)
    }
}

extension SpeechExperiment.Model: ExpressibleByArgument {}
