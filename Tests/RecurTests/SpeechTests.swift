import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct SpeechTests {
    /// A Speech Commands tree of generated tones: one frequency per class, 8 kHz clips.
    static func makeTree(classes: [(String, Double)], perClass: Int, minSamples: Int = 4000, lists: (valid: [String], test: [String])? = nil) throws -> URL {
        let root = temporaryFolder()
        var rng = RandomGenerator(seed: 11)
        var valid: [String] = [], test: [String] = []
        for (name, f) in classes {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(name), withIntermediateDirectories: true)
            for i in 0..<perClass {
                let n = minSamples + rng.int(below: 3000), phase = Double(rng.uniform()) * 6.28, amp = 0.3 + 0.5 * Double(rng.uniform())
                let y = (0..<n).map { t in Float(amp * sin(2 * Double.pi * f * Double(t) / 8000 + phase)) + 0.05 * rng.normal() }
                let file = "\(name)/spk\(i % 4)_nohash_\(i).wav"
                try WAVFile.encode([y], sampleRate: 8000, bits: 16).write(to: root.appendingPathComponent(file))
                if i % 5 == 0 { test.append(file) } else if i % 5 == 1 { valid.append(file) }
            }
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("_background_noise_"), withIntermediateDirectories: true)
        try ((lists?.valid ?? valid).joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("validation_list.txt"), atomically: true, encoding: .utf8)
        try ((lists?.test ?? test).joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("testing_list.txt"), atomically: true, encoding: .utf8)
        return root
    }

    @Test func listFilesDecideTheSplit() throws {
        let root = try Self.makeTree(classes: [("low", 300), ("high", 2000)], perClass: 10)
        defer { try? FileManager.default.removeItem(at: root) }
        let d = try SpeechCommandsDataset(root: root.path, classes: nil)
        #expect(d.classes == ["high", "low"], "folders sorted, _background_noise_ left out")
        #expect(d.test.count == 4 && d.valid.count == 4 && d.train.count == 12)
        #expect(d.test.allSatisfy { $0.path.hasSuffix("_0.wav") || $0.path.hasSuffix("_5.wav") })
        #expect(Set(d.train.map(\.path)).isDisjoint(with: d.valid.map(\.path) + d.test.map(\.path)))
        let one = try SpeechCommandsDataset(root: root.path, classes: ["low"])
        #expect(one.classes == ["low"] && one.train.allSatisfy { $0.label == 0 } && one.train.count == 6)
        #expect(one.warnings.isEmpty)
    }

    @Test func datasetErrorsAndWarnings() throws {
        let root = try Self.makeTree(classes: [("a", 500)], perClass: 5,
                                     lists: (valid: ["a/spk1_nohash_1.wav", "a/gone.wav"], test: ["a/spk0_nohash_0.wav"]))
        defer { try? FileManager.default.removeItem(at: root) }
        let d = try SpeechCommandsDataset(root: root.path, classes: ["a"])
        #expect(d.warnings.count == 1 && d.warnings[0].contains("a/gone.wav"))
        func message(_ body: () throws -> Void) -> String { do { try body(); return "no error" } catch { return "\(error)" } }
        #expect(message { _ = try SpeechCommandsDataset(root: root.path, classes: ["zebra"]) }.contains("no class folder 'zebra'"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        #expect(message { _ = try SpeechCommandsDataset(root: root.path, classes: ["empty"]) }.contains("has no .wav files"))
        #expect(message { _ = try SpeechCommandsDataset(root: "/nonexistent", classes: nil) }.contains("no such folder"))
        try FileManager.default.removeItem(at: root.appendingPathComponent("testing_list.txt"))
        #expect(message { _ = try SpeechCommandsDataset(root: root.path, classes: ["a"]) }.contains("testing_list.txt: missing"))
    }

    @Test func learnsTones() throws {
        let root = try Self.makeTree(classes: [("low", 250), ("mid", 1000), ("high", 3000)], perClass: 20, minSamples: 8000)
        defer { try? FileManager.default.removeItem(at: root) }
        let d = try SpeechCommandsDataset(root: root.path, classes: ["low", "mid", "high"])
        var e = SpeechExperiment()
        (e.hidden, e.layers, e.epochs, e.batchSize, e.validateEvery, e.learningRate) = (16, 1, 120, 12, 20, 0.01)
        let train = try e.features(d.train)
        #expect(train.frames == 32 && train.values[0].count == 32 * 20)
        let r = try e.run(train: train, valid: try e.features(d.valid), test: try e.features(d.test), classes: 3)
        #expect(r.finalTestAccuracy > 0.9, "final test accuracy \(r.finalTestAccuracy) \(r.confusion) \(r.history.map(\.validAccuracy)) \(r.history.map(\.trainLoss))")
        #expect(r.confusion.flatMap { $0 }.reduce(0, +) == d.test.count)
        e.model = .bidir
        e.epochs = 2
        let b = try e.run(train: train, valid: try e.features(d.valid), test: try e.features(d.test), classes: 3)
        #expect(b.history.map(\.step) == [6] && b.bestValidAccuracy >= 0, "6 steps: one validation, after the last step")
    }

    /// Stopping after some epochs and resuming from the checkpoint gives the same numbers as
    /// one run; the best weights file is a model file `recur infer`/`export` read.
    @Test func resumeIsExact() throws {
        let root = try Self.makeTree(classes: [("low", 250), ("high", 2000)], perClass: 10)
        defer { try? FileManager.default.removeItem(at: root) }
        let d = try SpeechCommandsDataset(root: root.path, classes: nil)
        var e = SpeechExperiment()
        (e.hidden, e.layers, e.epochs, e.batchSize, e.validateEvery) = (8, 2, 6, 4, 2)
        let (train, valid, test) = (try e.features(d.train), try e.features(d.valid), try e.features(d.test))
        let dir = temporaryFolder()
        let whole = try e.run(train: train, valid: valid, test: test, classes: 2)
        let path = dir.appendingPathComponent("speech.safetensors").path
        e.epochs = 2
        _ = try e.run(train: train, valid: valid, test: test, classes: 2, save: path)
        e.epochs = 6
        let resumed = try e.run(train: train, valid: valid, test: test, classes: 2, save: path, resume: path)
        #expect(resumed.history.map(\.validAccuracy) == whole.history.map(\.validAccuracy))
        #expect(resumed.history.map(\.trainLoss) == whole.history.map(\.trainLoss))
        #expect(resumed.finalTestAccuracy == whole.finalTestAccuracy && resumed.testLoss == whole.testLoss)
        #expect(resumed.testAccuracyAtBest == whole.testAccuracyAtBest && resumed.steps == whole.steps)
        expectSameResults(resumed.json, whole.json)
        let (cfg, _, _) = try Checkpoint.loadModel(TrainingCheckpoint.bestPath(path))
        #expect(cfg == ModelConfig(sequence: .lstm, inputSize: 20, hiddenSize: 8, layers: 2, outputSize: 2))
        // Other classes with as many clips (the same clips under other names): refused, naming them.
        #expect { try e.run(train: train, valid: valid, test: test, classes: 2, classNames: ["one", "two"], resume: path) } throws: {
            "\($0)".contains("its data differs from this run's: classes [] in the checkpoint, [\"one\",\"two\"] in this run")
        }
        // Other clips in the same counts: the fingerprint differs.
        #expect { try e.run(train: train, valid: test, test: valid, classes: 2, resume: path) } throws: { "\($0)".contains("fingerprint") }
        e.hidden = 9
        #expect(throws: RecurError.self) { try e.run(train: train, valid: valid, test: test, classes: 2, resume: path) }
    }

    @Test func badClipIsAnErrorNamingIt() throws {
        let root = try Self.makeTree(classes: [("a", 500)], perClass: 5)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("not a wav".utf8).write(to: root.appendingPathComponent("a/spk2_nohash_2.wav"))
        let d = try SpeechCommandsDataset(root: root.path, classes: ["a"])
        do {
            _ = try SpeechExperiment().features(d.train)
            Issue.record("no error")
        } catch { #expect("\(error)".contains("spk2_nohash_2.wav")) }
    }
}
