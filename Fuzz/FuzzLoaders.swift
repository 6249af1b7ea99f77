// libFuzzer targets for every reader of user files: safetensors, WAV, the model-configuration
// JSON, model files (metadata checked against tensors), CSV, TSV reviews, the text corpus and
// language-model checkpoints.
//
// RECUR_FUZZ_TARGET names one target and the whole input is its file; without it the first
// byte chooses the target. Any input must either load or throw an error: a crash, trap,
// hang or sanitizer report is a bug. Build and run with Fuzz/run.sh.
import Foundation

enum Target: String, CaseIterable {
    case safetensors, wav, config, modelfile, csv, tsv, text, lmcheckpoint
}

let fixedTarget = ProcessInfo.processInfo.environment["RECUR_FUZZ_TARGET"].map { name -> Target in
    guard let t = Target(rawValue: name) else { fatalError("RECUR_FUZZ_TARGET: one of \(Target.allCases.map(\.rawValue))") }
    return t
}

/// Readers that take a path get the input through this file (in memory on Linux).
let scratch = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()) + "/recur-fuzz-\(getpid()).safetensors"

func withFile(_ data: Data, _ body: (String) throws -> Void) {
    guard FileManager.default.createFile(atPath: scratch, contents: data) else { return }
    try? body(scratch)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let target: Target, file: Data
    if let fixedTarget {
        (target, file) = (fixedTarget, Data(bytes))
    } else {
        guard count > 0 else { return 0 }
        (target, file) = (Target.allCases[Int(bytes[0]) % Target.allCases.count], Data(bytes.dropFirst()))
    }
    let text = String(decoding: file, as: UTF8.self)
    switch target {
    case .safetensors:
        if let s = try? Safetensors(data: file, source: "fuzz.safetensors") {
            // Whatever loads must be consistent: every tensor's size matches its shape.
            for name in s.names { precondition(s[name]!.count == s[name]!.shape.reduce(1, *)) }
            _ = try? Safetensors(data: s.serialized(), source: "again")
        }
    case .wav:
        if let w = try? WAVFile(data: file, source: "fuzz.wav") {
            precondition(w.samples.allSatisfy { $0.isFinite }, "decoded samples must be finite")
        }
    case .config:
        if let c = try? ModelConfig(json: file, source: "fuzz.json") {
            // A valid configuration describes tensors without overflow, and round-trips.
            _ = c.parameterShapes
            precondition((try? ModelConfig(json: Data(c.json.utf8), source: "again")) == c, "configuration round trip")
        }
    case .modelfile:
        withFile(file) { path in
            let (cfg, model, _) = try Checkpoint.loadModel(path)
            precondition(model.namedParameters.count == cfg.parameterShapes.count)
        }
    case .csv:
        if let t = try? CSVTable(text: text, source: "fuzz.csv") {
            for c in 0..<min(t.header.count, 4) {
                _ = try? t.numbers(column: c, fill: nil)
                _ = try? t.numbers(column: c, fill: .forward)
                _ = try? t.numbers(column: c, fill: .drop)
            }
            // Several columns as a forecast's target and features, differenced and scaled.
            if let target = t.header.first, let series = try? TimeSeries.csv(t, columns: Array(t.header.prefix(3)), target: target, labelColumn: nil, fill: .drop) {
                var e = ForecastExperiment()
                (e.series, e.window, e.scaling, e.differenceFeatures) = (series, 3, .standard, true)
                e.differencing = Differencing(first: true, seasonalPeriod: 2)
                _ = try? ForecastInputs(e)
            }
        }
    case .tsv:
        withFile(file) { path in
            let corpus = try ReviewCorpus.tsv(path, skipBad: true)
            let vocabulary = Vocabulary(training: corpus.reviews.map { Tokenizer.tokens($0.text) }, size: 50)
            _ = corpus.reviews.map { vocabulary.encode(Tokenizer.tokens($0.text)) }
        }
    case .text:
        for level in [TextCorpus.Level.word, .char] {
            let (units, lines) = TextCorpus.units(ofText: text, level: level)
            let vocabulary = TokenVocabulary(training: units)
            _ = try? vocabulary.encode(units, lines: lines, file: "fuzz.txt")
        }
    case .lmcheckpoint:
        withFile(file) { path in
            let (model, vocabulary, _) = try LanguageModelExperiment.load(path)
            _ = try LanguageModelExperiment.generate(model, vocabulary: vocabulary, prime: [], length: 3, temperature: 1, seed: 1)
        }
    }
    return 0
}
