import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct SentimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentiment",
        abstract: "Seed 004: review sentiment with Embedding -> SimpleRNN/LSTM/GRU -> sigmoid.",
        discussion: "Data: --train and --test as TSV (label<TAB>text, label 0/1 or neg/pos) or aclImdb folders (pos/, neg/); "
            + "or --synthetic N for a generated corpus whose words carry the label. Validation: --valid F, or --valid-from-test 0.5 "
            + "(the seed's: half of the test set). Defaults are the seed's: vocabulary 2000 (ids 0 pad, 1 start, 2 unknown), "
            + "500 tokens padded and cut at the front, Adam 1e-3, batch 64, 3 epochs, Keras conventions."
    )

    @Option(help: ArgumentHelp("Training reviews: a TSV file or an aclImdb split folder.", valueName: "path")) var train: String?
    @Option(help: ArgumentHelp("Test reviews: a TSV file or folder.", valueName: "path")) var test: String?
    @Option(help: ArgumentHelp("Validation reviews: a TSV file or folder.", valueName: "path")) var valid: String?
    @Option(help: "Fraction of the test set to validate on, split with the seed (used without --valid).") var validFromTest: Double = 0.5
    @Option(help: "Generate N synthetic reviews (half train, half test, as IMDB) instead of reading files.") var synthetic: Int?
    @Flag(help: "Leave out malformed TSV lines (counted) instead of stopping.") var skipBad = false
    @Option(help: "Model.") var model: SentimentModel.Kind = .lstm1
    @Option(help: "Framework defaults: keras1 (TF 1.x Keras, the seed's: one bias, GRU reset before the product), keras (Keras 2+), pytorch or seed.")
    var convention: Convention = .keras1
    @Option(name: .customLong("init"), help: "Recurrent initialisation, overriding the convention's: pytorch, keras, fan-in, orthogonal, identity.")
    var initialization: RecurrentInitialization?
    @Option(help: "Replace the cell of rnn100, lstm100 or gru100 (e.g. lstm-peephole, lstm-layernorm).") var cell: CellType?
    @Option(help: "Vocabulary size (ids below it; 3 ids are reserved).") var vocab: Int = 2000
    @Option(help: "Tokens per review.") var maxlen: Int = 500
    @Option(help: "Pad at the front (pre, Keras) or the back (post).") var padding: Padding = .pre
    @Option(help: "Cut long reviews at the front (pre, Keras) or the back (post).") var truncating: Padding = .pre
    @Flag(help: "Use per-review lengths (masking) instead of padded steps.") var lengths = false
    @Option(help: "Epochs.") var epochs: Int = 3
    @Option(help: "Reviews per batch.") var batchSize: Int = 64
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Flag(help: "Batch reviews of similar length together, each batch run to its own longest review with lengths (implies --lengths).") var bucket = false
    @Flag(help: "Run all six models and compare with the seed's accuracies.") var compare = false
    @OptionGroup var training: TrainingFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        if cell != nil && model.units != 100 && !compare {
            throw ValidationError("--cell replaces the cell of a 100-unit model (rnn100, lstm100, gru100); \(model.rawValue)'s single sigmoid unit is its output")
        }
        if synthetic != nil && (train != nil || test != nil || valid != nil) {
            throw ValidationError("--synthetic generates its own reviews; it cannot be combined with --train, --test or --valid")
        }
        if synthetic == nil && (train == nil || test == nil) {
            throw ValidationError("give --train and --test (TSV files or aclImdb folders), or --synthetic N")
        }
        try training.validate(single: !compare, mode: "--compare")
    }

    func load(_ path: String) throws -> ReviewCorpus {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw RecurError("\(path): no such file or folder", fix: "check the path")
        }
        return isDir.boolValue ? try ReviewCorpus.folder(path) : try ReviewCorpus.tsv(path, skipBad: skipBad)
    }

    func run() throws {
        let out = try common.prepare()
        var trainSet: ReviewCorpus, testSet: ReviewCorpus, validSet: ReviewCorpus, description: String
        if let n = synthetic {
            let all = ReviewCorpus.synthetic(count: n, seed: common.seed)
            let (rest, testPart) = all.split(fraction: 0.5, seed: common.seed)
            trainSet = rest
            (testSet, validSet) = testPart.split(fraction: validFromTest, seed: common.seed)
            description = "synthetic (\(n) reviews, seed \(common.seed))"
        } else {
            trainSet = try load(train!)
            let fullTest = try load(test!)
            if let valid { validSet = try load(valid); testSet = fullTest } else { (testSet, validSet) = fullTest.split(fraction: validFromTest, seed: 1) }
            description = "\(train!) / \(test!)"
            let skipped = trainSet.skipped + fullTest.skipped + validSet.skipped
            if skipped > 0 { common.log("skipped \(skipped) malformed lines (--skip-bad)") }
        }
        common.log("reviews: \(trainSet.reviews.count) train, \(validSet.reviews.count) valid, \(testSet.reviews.count) test")
        let kinds = compare ? SentimentModel.Kind.allCases : [model]
        var results: [SentimentExperiment.Result] = []
        for kind in kinds {
            var e = SentimentExperiment()
            e.model = kind
            e.convention = convention
            e.recurrentInitialization = initialization
            e.cell = kind.units == 100 ? cell : nil
            e.vocabularySize = vocab
            e.maxlen = maxlen
            e.padding = padding
            e.truncating = truncating
            e.useLengths = lengths
            e.bucket = bucket
            e.patience = training.patience
            e.epochs = epochs
            e.batchSize = batchSize
            e.learningRate = lr
            e.seed = common.seed
            e.dataDescription = description
            let dir = compare ? try out.subdirectory(kind.rawValue) : out
            let steps = epochs * ((trainSet.reviews.count + batchSize - 1) / batchSize)
            let progress = ProgressReporter(total: steps, label: kind.rawValue, plainEvery: max(steps / 10, 1), enabled: !common.quiet)
            let r = try training.run {
                try e.run(train: trainSet, valid: validSet, test: testSet, save: training.save, resume: training.resume,
                          progress: progress, run: dir)
            }
            try dir.writeResults(r.json)
            try dir.write("report.md", Self.report([r], description))
            common.log("\(kind.rawValue): test accuracy \(formatNumber(r.testAccuracy, decimals: 4)), \(formatNumber(r.trainSeconds / Double(epochs), decimals: 1)) s/epoch")
            results.append(r)
        }
        if compare {
            try out.write("report.md", Self.report(results, description))
            try out.write("accuracy.svg", LineChart(title: "Validation accuracy by epoch", xLabel: "epoch", yLabel: "accuracy",
                series: results.map { r in .init(name: r.model.rawValue, points: r.history.map { (Double($0.epoch), $0.validAccuracy) }) }).svg)
            try common.finishComparison(out, runs: results.map(\.json), table: Self.table(results))
        } else {
            common.emit(results[0].json)
        }
    }

    static func table(_ results: [SentimentExperiment.Result]) -> MarkdownTable {
        var t = MarkdownTable(header: ["model", "test accuracy", "seed 004", "params", "s/epoch"], rightAligned: [1, 2, 3, 4])
        for r in results {
            t.append([r.model.rawValue, formatNumber(r.testAccuracy, decimals: 4), r.model.seedAccuracy.map { formatNumber($0, decimals: 2) } ?? "-",
                      ModelSummary.grouped(r.parameterCount), formatNumber(r.trainSeconds / Double(max(r.history.count, 1)), decimals: 1)])
        }
        return t
    }

    static func report(_ results: [SentimentExperiment.Result], _ data: String) -> String {
        var epochs = MarkdownTable(header: ["model", "epoch", "train loss", "train acc", "valid loss", "valid acc"], rightAligned: [1, 2, 3, 4, 5])
        for r in results {
            for p in r.history {
                epochs.append([r.model.rawValue, "\(p.epoch)", formatNumber(p.trainLoss), formatNumber(p.trainAccuracy),
                               formatNumber(p.validLoss), formatNumber(p.validAccuracy)])
            }
        }
        return "# Sentiment (seed 004)\n\nData: \(data).\n\n\(table(results).markdown)\n## By epoch\n\n\(epochs.markdown)"
    }
}

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's layers, output shapes and parameter counts (Keras-style).",
        discussion: "--convention keras1 (the seeds' TF 1.x Keras: one bias; GRU reset before the product) reproduces their counts; "
            + "--convention pytorch gives PyTorch's (two biases). --task layer counts a bare recurrent stack, e.g. "
            + "seed 002's LSTM: --task layer --cell lstm --input 200 --hidden 200."
    )

    enum Task: String, ExpressibleByArgument, CaseIterable { case sentiment, palindrome, speech, lm, forecast, layer }

    @Option(help: "Which model.") var task: Task = .sentiment
    @Option(help: "Sentiment model.") var model: SentimentModel.Kind = .lstm1
    @Option(help: "Vocabulary size (sentiment 2000; lm uses 10000 unless given).") var vocab: Int = 2000
    @Option(help: "Sentiment tokens per review.") var maxlen: Int = 500
    @Option(help: "Cell for palindrome, forecast and layer.") var cell: CellType = .lstm
    @Option(help: "Input size for --task layer.") var input: Int = 200
    @Option(help: "Classes for --task speech.") var classes: Int = 3
    @Option(help: "Embedding size for --task lm (default: --hidden).") var embedding: Int?
    @Option(help: "Hidden units (default: the task's).") var hidden: Int?
    @Option(help: "Stacked layers (default: speech 3, lm 2, others 1).") var layers: Int?
    @Flag(help: "Bidirectional.") var bidirectional = false
    @Option(help: "Framework defaults: keras1 (TF 1.x Keras, the seeds'), keras (Keras 2+), pytorch or seed.") var convention: Convention = .keras1
    @Flag(help: "Print JSON instead of the table.") var json = false

    func validate() throws {
        try OptionLimits.check(self)
    }

    func run() throws {
        let bias = convention.bias(for: cell)
        let s: ModelSummary
        switch task {
        case .sentiment: s = .sentiment(model, vocabularySize: vocab, maxlen: maxlen, convention: convention)
        case .layer:
            s = .layer(cell, inputSize: input, hiddenSize: hidden ?? 200, layers: layers ?? 1, bidirectional: bidirectional, bias: bias)
        case .palindrome:
            s = .sequenceModel(cell, inputSize: 1, hiddenSize: hidden ?? 128, layers: layers ?? 1, bidirectional: bidirectional, outputs: 10, bias: bias)
        case .speech:
            s = .sequenceModel(cell, inputSize: 20, hiddenSize: hidden ?? 32, layers: layers ?? 3, bidirectional: bidirectional,
                               outputs: classes, bias: bias)
        case .lm:
            s = .languageModel(cell, vocabularySize: vocab == 2000 ? 10_000 : vocab, embeddingSize: embedding ?? hidden ?? 200,
                               hiddenSize: hidden ?? 200, layers: layers ?? 2, steps: 35, bias: bias)
        case .forecast:
            s = .sequenceModel(cell, inputSize: 1, hiddenSize: hidden ?? 10, layers: layers ?? 1, bidirectional: bidirectional, outputs: 1, bias: bias)
        }
        print(json ? s.json.serialized() : s.text, terminator: json ? "\n" : "")
    }
}

extension SentimentModel.Kind: ExpressibleByArgument {}
extension Convention: ExpressibleByArgument {}
extension Padding: ExpressibleByArgument {}
