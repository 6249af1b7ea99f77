import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments
@testable import recur
import PropertyBased

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

    /// Every numeric option of every subcommand (found by reflection, so a new option is in
    /// the sweep without a change here), given property-generated values at and past its
    /// limits: 0, negative, fractional, huge, NaN, infinite, and valid small ones, with a tiny
    /// budget. Each run ends with exit 0 or a clear error, never a signal or a hang. The values
    /// stay out of the range of long but valid work (a million epochs would be). A failure
    /// prints the seed that reproduces it (`.fixedSeed(...)`).
    @Test func commandLineNeverCrashes() async throws {
        let dir = temporaryFolder()
        let text = dir.appendingPathComponent("t.txt").path
        try Data(String(repeating: "the cat sat on the mat . a dog ran . ", count: 20).utf8).write(to: URL(fileURLWithPath: text))
        let checkpoint = dir.appendingPathComponent("lm.safetensors").path
        let lm = try RecurProcess.run(["lm", "--train", text, "--valid", text, "--test", text, "--epochs", "1", "--hidden", "4", "--layers", "1",
                                       "--bptt", "5", "--batch-size", "2", "--quiet", "--save", checkpoint])
        #expect(lm.status == 0, "\(lm.stderr)")
        let config = dir.appendingPathComponent("model.json").path
        try Data(#"{"task": "sequence", "cell": "gru", "input_size": 2, "hidden_size": 3, "output_size": 2}"#.utf8).write(to: URL(fileURLWithPath: config))
        let series = dir.appendingPathComponent("series.csv").path
        try Data(("m,y\n" + (0..<80).map { "\($0 % 4),\(Double($0) * 0.1 + sin(Double($0)))" }.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: series))
        let speech = try SpeechTests.makeTree(classes: [("low", 250), ("high", 2000)], perClass: 5)
        defer { try? FileManager.default.removeItem(at: speech) }
        // A tiny run of each command; the option under test is appended (the last value wins).
        let base: [String: [String]] = [
            "generate": ["--checkpoint", checkpoint, "--length", "3"],
            "palindrome": ["--steps", "2", "--test-batches", "1", "--valid-batches", "1", "--hidden", "4", "--batch-size", "2", "--log-every", "1"],
            "forecast": ["--csv", series, "--columns", "y,m", "--target", "y", "--seasonal", "4", "--epochs", "1"],
            "sentiment": ["--synthetic", "40", "--epochs", "1", "--maxlen", "12", "--model", "rnn1"],
            "lm": ["--train", text, "--valid", text, "--test", text, "--epochs", "1", "--hidden", "4", "--layers", "1", "--bptt", "5", "--batch-size", "2"],
            "summary": [],
            "speech": ["--data", speech.path, "--classes", "low,high", "--epochs", "1", "--hidden", "4", "--layers", "1", "--batch-size", "4",
                       "--sample-rate", "8000", "--n-fft", "256", "--hop", "128", "--n-mels", "20"],
            "bench": ["--config", "P-GRU", "--seconds", "0.05"],
            "gradients": ["--length", "6", "--hidden", "4", "--batch-size", "2", "--cells", "lstm,rnn-relu:identity", "--at", "0,2"],
            "adding": ["--length", "6", "--hidden", "4", "--batch-size", "4", "--steps", "3", "--log-every", "1", "--valid-batches", "1", "--test-batches", "1"],
            "memory-sweep": ["--lengths", "6", "--cells", "gru", "--hidden", "4", "--batch-size", "4", "--steps", "3", "--log-every", "1",
                             "--valid-batches", "1", "--test-batches", "1"],
            "copy": ["--length", "2", "--hidden", "4", "--batch-size", "4", "--steps", "3", "--log-every", "1", "--valid-batches", "1", "--test-batches", "1"],
            "init": ["--config", config, "--out", dir.appendingPathComponent("init.safetensors").path],
        ]
        var cases: [(command: String, option: String)] = []
        for type in RecurCommand.configuration.subcommands {
            let name = type.configuration.commandName!, options = OptionLimits.numericOptionNames(of: type)
            #expect(options.isEmpty || base[name] != nil, "recur \(name) has numeric options \(options) but no tiny run in this sweep")
            if base[name] != nil { cases += options.map { (name, $0) } }
        }
        #expect(cases.count >= 80, "\(cases.count) options")
        let specials = ["0", "-0", "-1", "nan", "-nan", "inf", "-inf", "1e30", "9223372036854775807", "18446744073709551615", "-9223372036854775809",
                        "99999999999", "1e-30", "0x10", "1_000", "", " 3", "4.5"]
        // Small values are valid for most options and exercise the commands' own checks; huge
        // ones are past every range (the largest allowed count is 10^9, a seed 2^53).
        let value = Gen.oneOf(Gen.element(of: specials).map { $0! }.eraseToAnySequence(),
                              Gen.int(in: -5...12).map { String($0) }.eraseToAnySequence(),
                              Gen.double(in: -3...3).map { String($0) }.eraseToAnySequence(),
                              Gen.double(in: 1e16...1e300).map { String($0) }.eraseToAnySequence())
        var failures: [String] = [], slow: [String] = [], succeeded = 0, refused = 0
        await propertyCheck(count: 400, input: Gen.int(in: 0..<cases.count), value) { index, value in
            let (command, option) = cases[index]
            let sweepFolder = command == "memory-sweep" ? temporaryFolder() : nil
            defer { if let sweepFolder { try? FileManager.default.removeItem(at: sweepFolder) } }
            let arguments = [command] + base[command]! + (sweepFolder.map { ["--out", $0.path] } ?? []) + ["--" + option, value, "--quiet"].filter { !(command == "bench" && $0 == "--quiet") }
            let t0 = Date()
            guard let r = try? RecurProcess.run(arguments, timeout: 60) else { failures.append("\(arguments): could not start"); return }
            let seconds = Date().timeIntervalSince(t0)
            if seconds > 20 { slow.append("\(arguments.joined(separator: " ")): \(Int(seconds)) s") }
            if r.status == 0 { succeeded += 1 } else { refused += 1 }
            let clear = r.status == 0 || (r.stderr.contains("Error:") && !r.stderr.contains("Fatal error"))
            let ok = !r.signalled && clear
            if !ok { failures.append("\(arguments.joined(separator: " ")): status \(r.status)\(r.timedOut ? " (timed out)" : "") \(r.stderr.prefix(300))") }
            #expect(ok, "recur \(arguments.joined(separator: " ")): status \(r.status) \(r.stderr.prefix(300))")
        }
        #expect(slow.isEmpty, "\(slow.joined(separator: "\n"))")
        #expect(succeeded >= 20 && refused >= 100, "\(succeeded) runs ended with exit 0, \(refused) with an error")
    }

    /// A full disk (a 64 KiB tmpfs filled up, mounted in a private mount namespace, so this
    /// needs root as CI has it; elsewhere the test has nothing to run) behind --out, --save and
    /// standard output: an error naming the file and the reason, and no temporary file left.
    @Test(.enabled(if: ReliabilityTests.canMountTmpfs, "needs root and tmpfs mounts in a private mount namespace"))
    func aFullDiskIsAnErrorAndLeavesNoTemporaryFiles() throws {
        let dir = temporaryFolder().appendingPathComponent("full").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tiny = ["palindrome", "--length", "3", "--steps", "20", "--test-batches", "1", "--valid-batches", "1", "--quiet"]
        let runs = [tiny + ["--out", dir + "/run"], tiny + ["--save", dir + "/ck.safetensors"], tiny + ["--json"]]
        let recur = RecurProcess.executable.path
        let script = """
            mount -t tmpfs -o size=64k tmpfs '\(dir)' || exit 90
            dd if=/dev/zero of='\(dir)/fill' bs=1k 2>/dev/null
            for args in \(runs.dropLast().map { "'" + $0.joined(separator: " ") + "'" }.joined(separator: " ")); do
                '\(recur)' $args; echo "status $?"
            done
            '\(recur)' \(runs.last!.joined(separator: " ")) > '\(dir)/results.json'; echo "status $?"
            ls -a '\(dir)' '\(dir)/run' 2>/dev/null | grep -c 'tmp-' ; true
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["--mount", "sh", "-c", script]
        let out = Pipe(), err = Pipe()
        (p.standardOutput, p.standardError) = (out, err)
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 90, "the tmpfs mount failed: \(e)")
        let lines = o.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("status") } == ["status 1", "status 1", "status 1"], "\(o)\n\(e)")
        #expect(lines.last == "0", "temporary files left: \(o)")
        for file in ["/run/metrics.jsonl", "/ck.safetensors", "the standard output"] {
            #expect(e.contains(file) && e.contains("no space left on the device"), "\(file): \(e)")
        }
    }

    /// A full disk behind standard output is an error, not lost results with exit 0.
    /// Whether this machine lets the test mount a tmpfs (root, unshare): a skip is reported, not silent.
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
        let dir = temporaryFolder().path, p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["--mount", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs '\(dir)'"]
        (p.standardOutput, p.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full (Linux)"))
    func standardOutputOnAFullDiskIsAnError() throws {
        let r = try RecurProcess.run(["palindrome", "--length", "3", "--steps", "2", "--test-batches", "1", "--valid-batches", "1", "--json", "--quiet"],
                                     stdout: "/dev/full")
        #expect(r.status == 1 && r.stderr.contains("cannot write the standard output: no space left on the device"), "\(r.status) \(r.stderr)")
    }
}
