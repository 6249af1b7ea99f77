import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// Model files between Recur and PyTorch (Scripts/roundtrip_torch.py runs the torch side).
@Suite struct InteropTests {
    let config = ModelConfig(sequence: .lstm, inputSize: 5, hiddenSize: 8, layers: 2, bidirectional: true, outputSize: 3)

    @Test func configRoundTripsThroughJSON() throws {
        let back = try ModelConfig(json: Data(config.json.utf8), source: "test")
        #expect(back == config)
        #expect(config.json.contains("\"hidden_size\":8") && config.json.contains("\"task\":\"sequence\""))
    }

    @Test(arguments: [
        ("{\"task\": \"sequence\", \"cell\": \"lstm\", \"hidden_size\": 8, \"output_size\": 3}", "input_size"),
        ("{\"task\": \"sequence\", \"cell\": \"lstn\", \"hidden_size\": 8}", "cell"),
        ("{\"task\": \"sequence\", \"cell\": \"lstm\"}", "hidden_size"),
        ("{\"task\": \"sequence\", \"cell\": \"lstm\", \"hidden_size\": \"8\"}", "hidden_size"),
        ("{\"task\": \"language-model\", \"cell\": \"gru\", \"hidden_size\": 8, \"vocabulary_size\": 10, \"embedding_size\": 4, \"tied\": true}", "tied"),
        ("{\"task\": \"sequence\",", "JSON"),
    ])
    func badConfigsNameTheField(_ json: String, _ field: String) {
        do {
            _ = try ModelConfig(json: Data(json.utf8), source: "cfg.json")
            Issue.record("accepted \(json)")
        } catch {
            #expect("\(error)".contains("cfg.json") && "\(error)".contains(field), "\(error)")
        }
    }

    @Test func exportDropsOptimizerStateAndKeepsNames() throws {
        let dir = temporaryFolder()
        let model = config.makeModel(seed: 3)
        let opt = Adam(parameters: model.parameters, learningRate: 0.01)
        for p in model.parameters { p.grad.fill(0.5) }
        opt.step()
        let ckpt = dir.appendingPathComponent("c.safetensors").path, out = dir.appendingPathComponent("w.safetensors").path
        try Checkpoint.save(model, optimizer: opt, metadata: ["model": config.json], to: ckpt)
        #expect(try Safetensors(contentsOf: URL(fileURLWithPath: ckpt)).names.contains { $0.hasPrefix("optimizer.") })
        let (names, caveat) = try Checkpoint.exportWeights(from: ckpt, to: out)
        #expect(caveat == nil)
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: out))
        #expect(file.names == names && !names.contains { $0.hasPrefix("optimizer.") })
        #expect(names.contains("rnn.weight_ih_l1_reverse") && names.contains("rnn.bias_hh_l0") && names.contains("head.weight"))
        #expect(names.count == model.namedParameters.count)
        for (name, p) in model.namedParameters { #expect(file[name]!.scalars == p.value.scalars, "\(name)") }
        // The exported file loads back as the same model.
        let (cfg, again, _) = try Checkpoint.loadModel(out)
        #expect(cfg == config)
        for ((_, a), (_, b)) in zip(again.namedParameters, model.namedParameters) { #expect(a.value.scalars == b.value.scalars) }
    }

    @Test func tiedLanguageModelExportsHeadWeightAsPyTorchLists() throws {
        let dir = temporaryFolder()
        let lm = ModelConfig(languageModel: .lstm, vocabularySize: 12, embeddingSize: 6, hiddenSize: 6, layers: 1, tied: true)
        let model = lm.makeModel(seed: 1)
        let ckpt = dir.appendingPathComponent("lm.safetensors").path, out = dir.appendingPathComponent("lm-w.safetensors").path
        try Checkpoint.save(model, metadata: ["model": lm.json], to: ckpt)
        _ = try Checkpoint.exportWeights(from: ckpt, to: out)
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: out))
        #expect(file["head.weight"]!.scalars == file["embedding.weight"]!.scalars)
        _ = try Checkpoint.loadModel(out)  // and it loads back
        file["head.weight"]!.pointer[0] += 1
        try file.write(to: URL(fileURLWithPath: out))
        #expect(throws: RecurError.self) { try Checkpoint.loadModel(out) }
    }

    /// Importing checks names and shapes against the configuration, with the file in the message.
    @Test func importRejectsMismatchedWeights() throws {
        let dir = temporaryFolder()
        let weights = dir.appendingPathComponent("torch.safetensors").path
        var file = Safetensors()
        for (name, p) in config.makeModel(seed: 2).namedParameters { file[name] = p.value }
        try file.write(to: URL(fileURLWithPath: weights))
        _ = try Checkpoint.loadModel(weights, config: config)

        func expectFailure(_ edit: (inout Safetensors) -> Void, _ text: String) throws {
            var f = try Safetensors(contentsOf: URL(fileURLWithPath: weights))
            edit(&f)
            let bad = dir.appendingPathComponent("bad.safetensors").path
            try f.write(to: URL(fileURLWithPath: bad))
            do {
                _ = try Checkpoint.loadModel(bad, config: config)
                Issue.record("loaded a file with \(text)")
            } catch {
                #expect("\(error)".contains("bad.safetensors") && "\(error)".contains(text), "\(error)")
            }
        }
        try expectFailure({ $0["rnn.weight_hh_l1_reverse"] = nil }, "rnn.weight_hh_l1_reverse")
        try expectFailure({ $0["rnn.weight_hh_l2"] = Tensor(zeros: [32, 8]) }, "rnn.weight_hh_l2")
        try expectFailure({ $0["head.weight"] = Tensor(zeros: [3, 8]) }, "head.weight")
        // Without a configuration, a plain weights file is refused with the fix.
        do { _ = try Checkpoint.loadModel(weights); Issue.record("loaded without config") } catch {
            #expect("\(error)".contains("`config`"))
        }
    }

    @Test func commandLineRoundTrip() throws {
        let dir = temporaryFolder()
        let cfg = dir.appendingPathComponent("config.json")
        try Data(config.json.utf8).write(to: cfg)
        let model = dir.appendingPathComponent("m.safetensors").path, x = dir.appendingPathComponent("x.safetensors")
        #expect(try RecurProcess.run(["init", "--config", cfg.path, "--seed", "5", "--out", model]).status == 0)
        var batch = Safetensors()
        var rng = RandomGenerator(seed: 9)
        batch["x"] = randomTensor([7, 3, 5], &rng)
        try batch.write(to: x)
        let y = dir.appendingPathComponent("y.safetensors").path
        let r = try RecurProcess.run(["infer", "--checkpoint", model, "--input", x.path, "--output", y])
        #expect(r.status == 0, "\(r.stderr)")
        // Same numbers as the library: load the model and run it.
        let (_, layer, _) = try Checkpoint.loadModel(model)
        let seq = layer as! SequenceModel
        seq.training = false
        let logits = seq(batch["x"]!).copy()
        let out = try Safetensors(contentsOf: URL(fileURLWithPath: y))
        #expect(out["logits"]!.scalars == logits.scalars)
        #expect(out["output"]!.shape == [7, 3, 16] && out["h_n"]!.shape == [4, 3, 8] && out["c_n"]!.shape == [4, 3, 8])
        // A wrongly shaped batch is a clear error, not a crash.
        batch["x"] = Tensor(zeros: [7, 3, 4])
        try batch.write(to: x)
        let bad = try RecurProcess.run(["infer", "--checkpoint", model, "--input", x.path, "--output", y])
        #expect(bad.status != 0 && bad.stderr.contains("[T, B, 5]"), "\(bad.stderr)")
    }

    /// A diverged run (NaN loss) or a best metric still at infinity saves and resumes; a
    /// mismatched `mustMatch` entry is refused before any weight is loaded.
    @Test func trainingCheckpointKeepsNonFiniteProgress() throws {
        struct Progress: Codable, Equatable { var loss: Double; var best: Double }
        let dir = temporaryFolder()
        let path = dir.appendingPathComponent("t.safetensors").path
        let model = config.makeModel(seed: 1)
        let opt = Adam(parameters: model.parameters, learningRate: 0.01)
        let p = Progress(loss: .nan, best: .infinity)
        try TrainingCheckpoint.save(model, optimizer: opt, progress: p, random: [RandomGenerator(seed: 3)], format: "f", identity: "i",
                                    architecture: config, extra: ["vocabulary": "[a]"], to: path)
        let r = try TrainingCheckpoint.resume(path, model: model, optimizer: opt, format: "f", identity: "i",
                                              mustMatch: ["vocabulary": "[a]"], randomCount: 1, as: Progress.self)
        #expect(r.progress.loss.isNaN && r.progress.best == .infinity)
        #expect(r.random[0].state == RandomGenerator(seed: 3).state)
        do {
            _ = try TrainingCheckpoint.resume(path, model: model, optimizer: opt, format: "f", identity: "i",
                                              mustMatch: ["vocabulary": "[b]"], randomCount: 1, as: Progress.self)
            Issue.record("resumed with another vocabulary")
        } catch {
            #expect("\(error)".contains("vocabulary"), "\(error)")
        }
    }
}
