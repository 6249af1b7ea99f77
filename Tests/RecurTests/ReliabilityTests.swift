import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// No input, option or file may crash, hang or silently mislead: each class of bad input
/// ends in a clear error (or is read correctly).
@Suite struct ReliabilityTests {
    @Test func numberFormattingIsTotal() {
        #expect(formatNumber(1e300) == "1.00e+300" && formatNumber(-9.99e20, decimals: 2) == "-9.99e+20")
        #expect(formatNumber(9.999e20) == "1.00e+21")
        #expect(formatNumber(.nan) == "-" && formatNumber(.infinity) == "-" && formatNumber(nil) == "-")
        #expect(formatNumber(1234.5, decimals: 1) == "1234.5" && formatNumber(-0.00001, decimals: 2) == "0.00")
        #expect(formatScientific(2.29e-4) == "2.29e-4" && formatScientific(4e18) == "4.00e+18")
        #expect(ProgressReporter.clock(1e300) == "--:--")
    }

    static func configError(_ json: String) -> String {
        do { _ = try ModelConfig(json: Data(json.utf8), source: "m.json"); return "no error" } catch { return "\(error)" }
    }

    @Test func configurationTyposAndSizesAreNamed() {
        let typo = Self.configError(#"{"task": "sequence", "cell": "lstm", "input_size": 2, "hidden_size": 4, "output_size": 2, "bidirectinal": true}"#)
        #expect(typo.contains("m.json: unknown field 'bidirectinal', did you mean 'bidirectional'?"), "\(typo)")
        let stranger = Self.configError(#"{"task": "sequence", "cell": "lstm", "input_size": 2, "hidden_size": 4, "output_size": 2, "colour": 1}"#)
        #expect(stranger.contains("unknown field 'colour'") && stranger.contains("the fields are"), "\(stranger)")
        let fraction = Self.configError(#"{"task": "sequence", "cell": "lstm", "input_size": 2, "hidden_size": 4.5, "output_size": 2}"#)
        #expect(fraction.contains("'hidden_size' must be a whole number, got 4.5"), "\(fraction)")
        let huge = Self.configError(#"{"task": "sequence", "cell": "lstm", "input_size": 2, "hidden_size": 99999999999, "output_size": 2}"#)
        #expect(huge.contains("'hidden_size' is 99999999999, above the largest size"), "\(huge)")
        #expect(Self.configError("[1, 2]").contains("not a JSON object"))
    }

    /// A file name that is not UTF-8 is reported as such, not as a missing file.
    @Test func nonUTF8ArgumentsAreNamed() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "exec \"$0\" forecast --csv \"$(printf '/tmp/\\377.csv')\" --column a", RecurProcess.executable.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0 && text.contains("is not valid UTF-8"), "\(text)")
    }

    /// `recur init` refuses a configuration whose weights alone exceed the memory.
    @Test func initRefusesModelsBeyondMemory() throws {
        let path = temporaryFolder().appendingPathComponent("m.json").path
        try Data(#"{"task": "sequence", "cell": "lstm", "input_size": 2, "hidden_size": 16000000, "output_size": 2}"#.utf8).write(to: URL(fileURLWithPath: path))
        let r = try RecurProcess.run(["init", "--config", path, "--out", path + ".safetensors"])
        #expect(r.status != 0 && r.stderr.contains("of memory"), "\(r.stderr)")
    }

    /// A file whose metadata claims sizes its tensors do not have is refused before the model
    /// is built (a crafted hidden size would otherwise allocate terabytes).
    @Test func modelFileSizesAreCheckedAgainstItsTensors() throws {
        let dir = temporaryFolder()
        let small = ModelConfig(sequence: .lstm, inputSize: 2, hiddenSize: 4, outputSize: 3)
        let path = dir.appendingPathComponent("m.safetensors").path
        try Checkpoint.save(small.makeModel(seed: 1), metadata: ["model": small.json], to: path)
        var file = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        var crafted = small
        crafted.hiddenSize = 4_000_000
        file.metadata["model"] = crafted.json
        try file.write(to: URL(fileURLWithPath: path))
        #expect { try Checkpoint.loadModel(path) } throws: { "\($0)".contains("'rnn.weight_ih_l0' has shape [16, 2], and its configuration needs [16000000, 2]") }
        // The shapes computed without allocating are the built model's, for every task.
        let configs = [small, ModelConfig(sequence: .gru, inputSize: 3, hiddenSize: 5, layers: 2, bidirectional: true, outputSize: 2, merge: .sum),
                       ModelConfig(sequence: .lstm, inputSize: 3, hiddenSize: 6, layers: 2, outputSize: 2, projectionSize: 2),
                       ModelConfig(sequence: .lstmPeephole, inputSize: 3, hiddenSize: 4, outputSize: 1, bias: .single),
                       ModelConfig(jordan: 1, hiddenSize: 5, outputSize: 2, layers: 2, bidirectional: true),
                       ModelConfig(languageModel: .lstm, vocabularySize: 11, embeddingSize: 4, hiddenSize: 4, layers: 2, tied: true),
                       ModelConfig(languageModel: .gru, vocabularySize: 11, embeddingSize: 3, hiddenSize: 4, layers: 1)]
            + SentimentModel.Kind.allCases.map { ModelConfig(sentiment: $0, vocabularySize: 50, convention: .keras1) }
        for c in configs {
            let built = c.makeModel(seed: 0).namedParameters.map { "\($0.name) \($0.parameter.shape)" }
            #expect(c.parameterShapes.map { "\($0.name) \($0.shape)" } == built, "\(c.json)")
        }
    }

    @Test func languageModelVocabularyIsChecked() throws {
        #expect { try TokenVocabulary.check(["a", "b", "a"], source: "lm.safetensors") } throws: { "\($0)".contains("lm.safetensors: the vocabulary lists 'a' twice") }
        #expect { try TokenVocabulary.check([], source: "lm.safetensors") } throws: { "\($0)".contains("is empty") }
        #expect { try TokenVocabulary.check(["a", ""], source: "x") } throws: { "\($0)".contains("entry 1 is empty") }
    }

    @Test func memoryBeyondTheMachineIsRefusedBeforeAllocation() {
        let huge = ModelConfig(sequence: .lstm, inputSize: 1, hiddenSize: 1 << 20, outputSize: 10)
        #expect { try MemoryBudget.check(training: huge, steps: 10, batch: 128) } throws: { "\($0)".contains("needs about 64.1 TiB of memory") }
        #expect(throws: Never.self) { try MemoryBudget.check(training: ModelConfig(sequence: .lstm, inputSize: 1, hiddenSize: 128, outputSize: 10), steps: 10, batch: 128) }
        #expect(MemoryBudget.available > 0 && MemoryBudget.available <= Int(clamping: ProcessInfo.processInfo.physicalMemory))
    }

    @Test func twoRunsCannotWriteOneCheckpoint() throws {
        let path = temporaryFolder().appendingPathComponent("c.safetensors").path
        var first: CheckpointLock? = try CheckpointLock(path)
        #expect { try CheckpointLock(path) } throws: { "\($0)".contains("is being written by another run") }
        _ = first
        first = nil
        #expect(throws: Never.self) { _ = try CheckpointLock(path) }
        #expect(!FileManager.default.fileExists(atPath: path + ".lock"))
    }

    /// A kill between the best file and the checkpoint leaves them out of step; resume puts
    /// the checkpoint's own best weights back into the best file.
    @Test func resumeRepairsABestFileOutOfStep() throws {
        var e = ForecastExperiment()
        (e.epochs, e.units) = (3, 4)
        let path = temporaryFolder().appendingPathComponent("f.safetensors").path
        let r = try e.run(save: path)
        let best = TrainingCheckpoint.bestPath(path)
        let good = try Safetensors(contentsOf: URL(fileURLWithPath: best))
        // The state of a kill right after a newer best file was written.
        var newer = good
        newer.metadata["best_step"] = "999"
        for name in newer.names { newer[name] = Tensor(repeating: 7, shape: good[name]!.shape) }
        try newer.write(to: URL(fileURLWithPath: best))
        e.epochs = 4
        _ = try e.run(save: path, resume: path)
        let repaired = try Safetensors(contentsOf: URL(fileURLWithPath: best))
        let checkpoint = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        #expect(repaired.metadata["best_step"] != "999")
        for name in repaired.names where !name.hasPrefix("best.") {
            #expect(repaired[name]!.scalars == checkpoint["best." + name]!.scalars, "\(name)")
        }
        _ = r
    }

    @Test func dataThatWouldMisleadIsRefusedOrReadRight() throws {
        let dir = temporaryFolder()
        // CR-only line endings (old Mac files) are lines, not one review.
        let tsv = dir.appendingPathComponent("r.tsv").path
        try Data("1\tgreat film\r0\tdull film\r1\tlovely\r".utf8).write(to: URL(fileURLWithPath: tsv))
        #expect(try ReviewCorpus.tsv(tsv).reviews.count == 3)
        // An empty recording and a sample rate no audio has.
        #expect { try WAVFile(data: WAVFile.encode([[]], sampleRate: 16000, bits: 16), source: "e.wav") } throws: { "\($0)".contains("no samples") }
        #expect { try WAVFile(data: WAVFile.encode([[0.1, 0.2]], sampleRate: 1, bits: 16), source: "r.wav") } throws: { "\($0)".contains("1 Hz") }
        // A class named twice.
        let root = dir.appendingPathComponent("speech").path
        for c in ["one", "two"] { try AtomicFile.createFolder(root + "/" + c) }
        #expect { try SpeechCommandsDataset(root: root, classes: ["one", "one"]) } throws: { "\($0)".contains("lists 'one' twice") }
        // Empty splits.
        var e = SentimentExperiment()
        e.epochs = 1
        let corpus = ReviewCorpus.synthetic(count: 20, seed: 1)
        #expect { try e.run(train: corpus, valid: corpus, test: ReviewCorpus(reviews: [])) } throws: { "\($0)".contains("the test set has no reviews") }
        // A text of nothing but <unk>.
        let unk = dir.appendingPathComponent("unk.txt").path
        try Data(String(repeating: "<unk> <unk> <unk>\n", count: 30).utf8).write(to: URL(fileURLWithPath: unk))
        let lm = try RecurProcess.run(["lm", "--train", unk, "--valid", unk, "--test", unk, "--epochs", "1", "--hidden", "4", "--quiet"])
        #expect(lm.status != 0 && lm.stderr.contains("no words besides <unk>"), "\(lm.stderr)")
        // --synthetic with files would ignore the files.
        let both = try RecurProcess.run(["sentiment", "--synthetic", "40", "--train", tsv, "--test", tsv])
        #expect(both.status != 0 && both.stderr.contains("cannot be combined"), "\(both.stderr)")
    }

    /// Every numeric option of the training commands and `generate`, given values at and past its limits
    /// (0, negative, fractional, huge, NaN, infinite) with a tiny budget: each run ends with
    /// exit 0 or a clear error, never a signal or a hang. Cases are drawn with a fixed seed;
    /// the values stay out of the range of long but valid work (a million epochs would be).
    @Test func commandLineNeverCrashes() throws {
        let dir = temporaryFolder()
        let text = dir.appendingPathComponent("t.txt").path
        try Data(String(repeating: "the cat sat on the mat . a dog ran . ", count: 20).utf8).write(to: URL(fileURLWithPath: text))
        let checkpoint = dir.appendingPathComponent("lm.safetensors").path
        let lm = try RecurProcess.run(["lm", "--train", text, "--valid", text, "--test", text, "--epochs", "1", "--hidden", "4", "--layers", "1",
                                       "--bptt", "5", "--batch-size", "2", "--quiet", "--save", checkpoint])
        #expect(lm.status == 0, "\(lm.stderr)")
        let base: [(command: [String], options: [String])] = [
            (["generate", "--checkpoint", checkpoint], ["length", "temperature", "seed"]),
            (["palindrome", "--steps", "2", "--test-batches", "1", "--valid-batches", "1", "--hidden", "4", "--batch-size", "2", "--log-every", "1"],
             ["length", "hidden", "layers", "dropout", "lr", "lr-step", "lr-gamma", "clip", "batch-size", "steps", "test-batches",
              "log-every", "valid-batches", "patience", "jobs", "proj-size", "seed", "threads"]),
            (["forecast", "--epochs", "1"],
             ["window", "split", "units", "epochs", "batch-size", "lr", "clip", "l2", "input-dropout", "recurrent-dropout",
              "horizon", "valid-fraction", "patience", "seed", "threads"]),
            (["sentiment", "--synthetic", "40", "--epochs", "1", "--maxlen", "12", "--model", "rnn1"],
             ["synthetic", "valid-from-test", "vocab", "maxlen", "epochs", "batch-size", "lr", "patience", "seed"]),
            (["lm", "--train", text, "--valid", text, "--test", text, "--epochs", "1", "--hidden", "4", "--layers", "1", "--bptt", "5", "--batch-size", "2"],
             ["layers", "embedding", "hidden", "dropout", "lr", "decay-after", "decay-factor", "clip", "epochs", "batch-size", "bptt", "seed"]),
            (["summary"], ["vocab", "maxlen", "input", "classes", "embedding", "hidden", "layers"]),
        ]
        let values = ["0", "-1", "-5", "4.5", "nan", "inf", "-inf", "1e30", "9223372036854775807", "18446744073709551615",
                      "99999999999", "1", "2", "0.5", "1e-30"]
        var rng = RandomGenerator(seed: 15)
        var failures: [String] = [], slow: [String] = [], succeeded = 0, refused = 0
        for _ in 0..<320 {
            let (command, options) = base[rng.int(below: base.count)]
            let option = options[rng.int(below: options.count)], value = values[rng.int(below: values.count)]
            let arguments = command + ["--" + option, value, "--quiet"]
            let t0 = Date()
            let r = try RecurProcess.run(arguments, timeout: 60)
            if Date().timeIntervalSince(t0) > 10 { slow.append("\(arguments.joined(separator: " ")): \(Int(Date().timeIntervalSince(t0))) s") }
            if r.status == 0 { succeeded += 1 } else { refused += 1 }
            let clear = r.status == 0 || (r.stderr.contains("Error:") && !r.stderr.contains("Fatal error"))
            if r.signalled || !clear { failures.append("\(arguments.joined(separator: " ")): status \(r.status)\(r.timedOut ? " (timed out)" : "") \(r.stderr.prefix(300))") }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(slow.isEmpty, "\(slow.joined(separator: "\n"))")
        #expect(succeeded >= 20 && refused >= 100, "\(succeeded) runs ended with exit 0, \(refused) with an error")
    }
}
