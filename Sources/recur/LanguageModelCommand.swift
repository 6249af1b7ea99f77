import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct LanguageModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Seed 002: word-level language models on Penn Treebank (LSTM/GRU, dropout, SGD vs Adam, perplexity).",
        discussion: "--data DIR reads ptb.train.txt, ptb.valid.txt, ptb.test.txt; or name --train, --valid, --test. "
            + "Defaults: 2-layer LSTM, 200 units, BPTT 35, batch 20, SGD lr 1 halved after epoch 4, clip 5. "
            + "--preset small|medium are Zaremba et al.'s. --compare runs LSTM and GRU, with and without dropout 0.5, with SGD and with Adam."
    )

    @Option(help: ArgumentHelp("Folder with ptb.train.txt, ptb.valid.txt and ptb.test.txt.", valueName: "dir")) var data: String?
    @Option(help: ArgumentHelp("Training text.", valueName: "file")) var train: String?
    @Option(help: ArgumentHelp("Validation text.", valueName: "file")) var valid: String?
    @Option(help: ArgumentHelp("Test text.", valueName: "file")) var test: String?
    @Option(help: "Units: word or char (spaces become _).") var level: TextCorpus.Level = .word
    @Option(help: "Zaremba et al.'s configuration; options given explicitly still win.") var preset: LanguageModelExperiment.Preset?
    @Option(help: "Cell: lstm or gru (rnn works too).") var cell: CellType = .lstm
    @Option(help: "Stacked layers (default: 2).") var layers: Int?
    @Option(help: "Embedding size (default: --hidden).") var embedding: Int?
    @Option(help: "Hidden units (default: 200).") var hidden: Int?
    @Option(help: "Dropout on the embedding, between layers and on the top output (default: 0).") var dropout: Float?
    @Flag(help: "Tie the output weights to the embedding (needs embedding = hidden).") var tie = false
    @Option(help: "Optimizer: sgd (lr 1 with decay) or adam (lr 1e-3).") var optimizer: OptimizerKind = .sgd
    @Option(help: "Learning rate (default: 1 for sgd, 0.001 otherwise).") var lr: Float?
    @Option(help: "SGD: epochs at the base rate before decay (default: 4).") var decayAfter: Int?
    @Option(help: "SGD: rate multiplier per epoch after that, 0.5 divides by 2 (default: 0.5).") var decayFactor: Float?
    @Option(help: "Gradient-norm clip, 0 is off (default: 5).") var clip: Float?
    @Option(help: "Epochs (default: 13).") var epochs: Int?
    @Option(help: "Parallel streams (default: 20).") var batchSize: Int?
    @Option(help: "Truncated BPTT window (default: 35).") var bptt: Int?
    @OptionGroup var training: TrainingFlags
    @Flag(help: "The seed's eight-run study: LSTM/GRU x dropout 0/0.5 x SGD/Adam.") var compare = false
    @OptionGroup var projection: ProjectionOption
    @Option(name: .customLong("init"), help: "Recurrent initialisation: pytorch, keras, fan-in, orthogonal, identity (default: Zaremba's uniform ±init scale, as every other tensor).")
    var initialization: RecurrentInitialization?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        if data == nil && (train == nil || valid == nil || test == nil) {
            throw ValidationError("give --data DIR (with ptb.train.txt, ptb.valid.txt, ptb.test.txt) or all of --train, --valid and --test")
        }
        if tie, let embedding, embedding != (projection.projSize > 0 ? projection.projSize : hidden ?? 200) {
            throw ValidationError("--tie needs --embedding equal to --hidden (or to --proj-size)")
        }
        if projection.projSize != 0 { try projection.validate(cell: cell, hidden: hidden ?? (preset == .medium ? 650 : 200)) }
        try training.validate(single: !compare, mode: "--compare")
    }

    func experiment() -> LanguageModelExperiment {
        var e = LanguageModelExperiment()
        if let preset { e.apply(preset) }  // then explicit options override the preset
        e.cell = cell
        e.projectionSize = projection.projSize
        e.recurrentInitialization = initialization
        e.optimizer = optimizer
        e.tied = tie
        e.level = level
        e.seed = common.seed
        e.patience = training.patience
        if let layers { e.layers = layers }
        if let hidden { e.hiddenSize = hidden; e.embeddingSize = hidden }
        if let embedding { e.embeddingSize = embedding }
        if let dropout { e.dropout = dropout }
        if let decayAfter { e.decayAfter = decayAfter }
        if let decayFactor { e.decayFactor = decayFactor }
        if let clip { e.clip = clip }
        if let epochs { e.epochs = epochs }
        if let batchSize { e.batchSize = batchSize }
        if let bptt { e.bptt = bptt }
        e.learningRate = lr ?? (e.optimizer == .sgd ? 1 : 1e-3)
        return e
    }

    func run() throws {
        let out = try common.prepare()
        let paths = data.map { d in ["train", "valid", "test"].map { URL(fileURLWithPath: d).appendingPathComponent("ptb.\($0).txt").path } }
            ?? [train!, valid!, test!]
        let units = try paths.map { try TextCorpus.units(ofFile: $0, level: level) }
        let vocabulary = TokenVocabulary(training: units[0].units)
        let ids = try zip(units, paths).map { try vocabulary.encode($0.units, lines: $0.lines, file: $1) }
        common.log("vocabulary \(vocabulary.count); tokens: \(ids[0].count) train, \(ids[1].count) valid, \(ids[2].count) test")
        // A text of only <unk> (and line ends) gives a low perplexity that means nothing.
        let words = units[0].units.filter { $0 != TextCorpus.unknown && $0 != TextCorpus.endOfSentence }
        guard !words.isEmpty else {
            throw RecurError("\(paths[0]): the training text has no words besides \(TextCorpus.unknown) and line ends", fix: "train on a real text")
        }
        if Double(words.count) < 0.5 * Double(units[0].units.count) {
            FileHandle.standardError.write(Data("warning: \(paths[0]): \(units[0].units.count - words.count) of its \(units[0].units.count) tokens are \(TextCorpus.unknown) or line ends; the perplexity will say little\n".utf8))
        }
        var runs = [experiment()]
        if compare {
            runs = []
            for c in [CellType.lstm, .gru] {
                for p: Float in [0, 0.5] {  // the seed's study: with and without dropout 0.5
                    for o in [OptimizerKind.sgd, .adam] {
                        var e = experiment()
                        (e.cell, e.dropout, e.optimizer) = (c, p, o)
                        if c != .lstm { e.projectionSize = 0 }
                        e.learningRate = lr ?? (o == .sgd ? 1 : 1e-3)
                        runs.append(e)
                    }
                }
            }
        }
        var results: [(LanguageModelExperiment, LanguageModelExperiment.Result)] = []
        for e in runs {
            let name = "\(e.cell.rawValue)-dropout\(e.dropout)-\(e.optimizer.rawValue)"
            let dir = compare ? try out.subdirectory(name) : out
            let windows = (ids[0].count / e.batchSize - 1 + e.bptt - 1) / e.bptt
            let progress = ProgressReporter(total: windows * e.epochs, label: name, unit: "window", plainEvery: max(windows, 1), enabled: !common.quiet)
            let r = try training.run {
                try e.run(train: ids[0], valid: ids[1], test: ids[2], vocabulary: vocabulary, save: training.save, resume: training.resume,
                          progress: progress, run: dir)
            }
            try dir.writeResults(r.json)
            try writeReport(dir, [(e, r)])
            common.log("\(name): test perplexity \(formatNumber(r.history.last?.testPerplexity ?? .nan, decimals: 2)) (unigram \(formatNumber(r.unigramPerplexity, decimals: 1)))")
            results.append((e, r))
        }
        if compare {
            try writeReport(out, results)
            try common.finishComparison(out, runs: results.map { $0.1.json }, table: Self.table(results))
        } else {
            common.emit(results[0].1.json)
        }
    }

    static func table(_ results: [(LanguageModelExperiment, LanguageModelExperiment.Result)]) -> MarkdownTable {
        var t = MarkdownTable(header: ["cell", "dropout", "optimizer", "train ppl", "valid ppl", "test ppl", "best valid", "s/epoch", "tokens/s"],
                              rightAligned: Set(1...8))
        for (e, r) in results {
            let last = r.history.last
            t.append([e.cell.displayName, formatNumber(Double(e.dropout), decimals: 1), e.optimizer.rawValue,
                      formatNumber(last?.trainPerplexity, decimals: 1), formatNumber(last?.validPerplexity, decimals: 1),
                      formatNumber(last?.testPerplexity, decimals: 1), formatNumber(r.bestValidPerplexity, decimals: 1),
                      formatNumber(r.history.map(\.seconds).reduce(0, +) / Double(max(r.history.count, 1)), decimals: 1),
                      formatNumber(r.history.map(\.tokensPerSecond).reduce(0, +) / Double(max(r.history.count, 1)), decimals: 0)])
        }
        return t
    }

    func writeReport(_ dir: RunDirectory, _ results: [(LanguageModelExperiment, LanguageModelExperiment.Result)]) throws {
        let chart = LineChart(title: "Validation perplexity by epoch", xLabel: "epoch", yLabel: "perplexity",
                              series: results.map { e, r in .init(name: "\(e.cell.displayName) dropout \(e.dropout) \(e.optimizer.rawValue)",
                                                                  points: r.history.map { (Double($0.epoch), $0.validPerplexity) }) })
        try dir.write("perplexity.svg", chart.svg)
        let unigram = results.first.map { formatNumber($0.1.unigramPerplexity, decimals: 1) } ?? "-"
        try dir.write("report.md", "# Language model (seed 002)\n\nUnigram (add-one) test perplexity: \(unigram).\n\n\(Self.table(results).markdown)\n![perplexity](perplexity.svg)\n")
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Sample text from a language-model checkpoint.")

    @Option(help: ArgumentHelp("A checkpoint written by recur lm --save.", valueName: "file")) var checkpoint: String
    @Option(help: "Text to start from.") var prime: String = ""
    @Option(help: "Units to generate.") var length: Int = 50
    @Option(help: "Softmax temperature; 0 is greedy.") var temperature: Float = 1
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func validate() throws {
        try OptionLimits.check(self)
    }

    func run() throws {
        let (model, vocabulary, e) = try LanguageModelExperiment.load(checkpoint)
        let prime = TextCorpus.units(ofText: self.prime, level: e.level).units.filter { $0 != TextCorpus.endOfSentence }
        // Streams: each unit is written as soon as it is sampled.
        var lineStart = true
        func write(_ unit: String) {
            let text: String
            if unit == TextCorpus.endOfSentence {
                (text, lineStart) = ("\n", true)
            } else {
                text = (e.level == .word && !lineStart ? " " : "") + (unit == "_" && e.level == .char ? " " : unit)
                lineStart = false
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        prime.forEach(write)
        _ = try LanguageModelExperiment.generate(model, vocabulary: vocabulary, prime: prime, length: length, temperature: temperature,
                                                 seed: seed, emit: write)
        if !lineStart { write(TextCorpus.endOfSentence) }
    }
}

extension TextCorpus.Level: ExpressibleByArgument {}
extension LanguageModelExperiment.Preset: ExpressibleByArgument {}
