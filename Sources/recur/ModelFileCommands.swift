import ArgumentParser
import Foundation
import Recur
import RecurExperiments
import RecurExport

/// `recur export`: a checkpoint's weights for PyTorch, or the whole model as ONNX.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's weights and model.py for PyTorch, or the model as ONNX.",
        discussion: "--to pytorch drops the optimizer state; names stay PyTorch state-dict names (rnn.weight_ih_l0, head.weight, embedding.weight), and model.py beside the file is an nn.Module of the model with load() (stock nn.LSTM/GRU/RNN where they compute the cell, a step-by-step module for peephole or layer-norm LSTMs, the reset-before GRU and Keras' activations; none for Jordan networks or merged directions, said on stderr). "
            + "--to onnx writes an ONNX model (opset 14) with the inputs and outputs of recur infer: x [T, B, I] or ids [T, B] (int64), with --lengths a lengths [B] (int32) input, with --initial-state h0 (and c0) inputs; T and B are dynamic. See docs/interop.md."
    )

    enum Target: String, ExpressibleByArgument { case pytorch, onnx }

    @Option(help: "A Recur checkpoint (recur lm --save, recur init, recur import).") var checkpoint: String
    @Option(help: "Target framework.") var to: Target = .pytorch
    @Flag(help: "ONNX: a 'lengths' [B] input, each sequence's steps (its recurrent ops' sequence_lens).") var lengths = false
    @Flag(help: "ONNX: 'h0' (and 'c0' for LSTM) [L*D, B, H] inputs, the initial state.") var initialState = false
    @Argument(help: "Output file: .safetensors for pytorch, .onnx for onnx.") var output: String

    func validate() throws {
        try OptionLimits.check(self)
        if to == .pytorch && (lengths || initialState) { throw ValidationError("--lengths and --initial-state are for --to onnx") }
    }

    func run() throws {
        switch to {
        case .pytorch:
            let (names, caveat) = try Checkpoint.exportWeights(from: checkpoint, to: output)
            print("wrote \(output): \(names.count) tensors (\(names.joined(separator: ", ")))")
            let (cfg, model, _) = try Checkpoint.loadModel(checkpoint)
            let url = URL(fileURLWithPath: output)
            let script = url.deletingLastPathComponent().appendingPathComponent("model.py").path
            do {
                if let existing = FileManager.default.contents(atPath: script), !String(decoding: existing, as: UTF8.self).contains(PyTorchModule.marker) {
                    throw RecurError("\(script) exists and was not written by recur export; it is left as it is", fix: "export into another folder to get model.py")
                }
                let source = try PyTorchModule.source(of: model, config: cfg, weights: url.lastPathComponent)
                try AtomicFile.write(Data(source.utf8), to: script)
                print("wrote \(script): the nn.Module (import model; net = model.load())")
                if let caveat {
                    let reason = caveat.hasSuffix(": " + Checkpoint.ownModuleAdvice) ? String(caveat.dropLast(Checkpoint.ownModuleAdvice.count + 2)) : caveat
                    FileHandle.standardError.write(Data("note: \(reason); model.py computes it step by step\n".utf8))
                }
            } catch let e as RecurError {
                if let caveat { FileHandle.standardError.write(Data("note: \(caveat)\n".utf8)) }
                FileHandle.standardError.write(Data("note: no model.py: \(e.description)\n".utf8))
            }
        case .onnx:
            let (cfg, model, _) = try Checkpoint.loadModel(checkpoint)
            let proto = try ONNXExporter(lengths: lengths, initialState: initialState).write(model, config: cfg, to: output)
            let g = proto.graph
            print("wrote \(output): ONNX opset \(ONNXExporter.opset), inputs \(g.input.map(\.name).joined(separator: ", ")); "
                  + "outputs \(g.output.map(\.name).joined(separator: ", ")); ops \(g.node.map(\.opType).joined(separator: " "))")
        }
    }
}

/// `recur import`: PyTorch weights plus a configuration → a Recur model file.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a safetensors file saved from PyTorch (nn.LSTM/GRU/RNN as rnn, nn.Linear as head, nn.Embedding as embedding) into a Recur model file.",
        discussion: "Every tensor name and shape is checked against the configuration. See docs/interop.md for the config fields."
    )

    @Option(help: "safetensors file from PyTorch (save_file(model.state_dict(), ...)).") var weights: String
    @Option(help: "Model configuration JSON (task, cell, sizes).") var config: String
    @Option(help: "Output Recur model file.") var out: String

    func validate() throws { try OptionLimits.check(self) }

    func run() throws {
        let cfg = try ModelConfig.load(config)
        let (_, model, _) = try Checkpoint.loadModel(weights, config: cfg)
        try Checkpoint.save(model, metadata: ["model": cfg.json], to: out)
        print("wrote \(out): \(cfg.task.rawValue) \(cfg.cell.rawValue) model, \(model.parameterCount) parameters")
    }
}

/// `recur init`: a freshly initialised model file.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a freshly initialised model (PyTorch's initialisation) described by a configuration."
    )

    @Option(help: "Model configuration JSON.") var config: String
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Output Recur model file.") var out: String

    func validate() throws { try OptionLimits.check(self) }

    func run() throws {
        let cfg = try ModelConfig.load(config)
        try MemoryBudget.check(cfg.parameterCount.multipliedReportingOverflow(by: 8).overflow ? nil : cfg.parameterCount * 8,
                               what: "a model of \(cfg.parameterCount) parameters", fix: "check the sizes in \(config)")
        let model = cfg.makeModel(seed: seed)
        try Checkpoint.save(model, metadata: ["model": cfg.json], to: out)
        print("wrote \(out): \(model.parameterCount) parameters")
    }
}

/// `recur infer`: a model's outputs for a batch stored as safetensors.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a model file on a batch: 'x' [T, B, input_size] for sequence models and Jordan networks, 'ids' [T, B] for language and sentiment models (time-major, as nn.LSTM), with optional 'lengths' [B].",
        discussion: "Sequence models write 'output' [T, B, D*H], 'h_n' [L*D, B, H], 'c_n' (LSTM) and 'logits' [B, output_size]; Jordan networks 'output' [T, B, D*output_size] (a forecaster's forecast is the last step); language models 'logits' [T, B, vocabulary]; sentiment models 'output' [B] (a probability for the 1-unit models, a logit for the 100-unit ones)."
    )

    @Option(help: "Recur model file (or PyTorch weights with --config).") var checkpoint: String
    @Option(help: "Model configuration JSON, for files without Recur metadata.") var config: String?
    @Option(help: "safetensors file with tensor 'x' or 'ids' (and optionally 'lengths').") var input: String
    @Option(help: "Output safetensors file.") var output: String

    func validate() throws { try OptionLimits.check(self) }

    func run() throws {
        let (cfg, layer, _) = try Checkpoint.loadModel(checkpoint, config: try config.map(ModelConfig.load))
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: input))
        var out = Safetensors()
        switch layer {
        case let model as SequenceModel:
            let x = try features(file, size: cfg.inputSize!)
            model.training = false
            let (r, logits) = model.run(x, lengths: try lengths(file, steps: x.shape[0], batch: x.shape[1]))
            out["output"] = r.output
            out["h_n"] = r.state.h
            if let c = r.state.c { out["c_n"] = c }
            out["logits"] = logits
        case let model as JordanRNN:
            let x = try features(file, size: cfg.inputSize!)
            model.training = false
            out["output"] = model(x, lengths: try lengths(file, steps: x.shape[0], batch: x.shape[1]), initialState: nil).output
        case let model as LanguageModel:
            let (ids, T, B) = try tokens(file, vocabulary: model.vocabularySize)
            guard file["lengths"] == nil else { throw RecurError("\(input): a language model reads every step; 'lengths' is for sequence and sentiment models", fix: "remove 'lengths'") }
            model.training = false
            var state = model.zeroState(batch: B)
            out["logits"] = model(ids, steps: T, batch: B, state: &state).copy().reshaped([T, B, model.vocabularySize])
        case let model as SentimentModel:
            let (ids, T, B) = try tokens(file, vocabulary: cfg.vocabularySize!)
            model.training = false
            out["output"] = model(ids, steps: T, batch: B, lengths: try lengths(file, steps: T, batch: B)).copy()
        default:
            throw RecurError("\(checkpoint) holds a \(cfg.task.rawValue) model, which infer does not run", fix: "give a sequence, Jordan, language or sentiment model file")
        }
        try out.write(to: URL(fileURLWithPath: output))
        print("wrote \(output): " + out.names.map { "\($0) \(out[$0]!.shape)" }.joined(separator: ", "))
    }

    /// 'x' [T, B, size], time-major.
    func features(_ file: Safetensors, size: Int) throws -> Tensor {
        guard let x = file["x"] else { throw RecurError("\(input) has no tensor 'x'", fix: "save the batch as {'x': tensor of shape [T, B, \(size)]}") }
        guard x.rank == 3, x.shape[2] == size, x.shape[0] > 0, x.shape[1] > 0 else {
            throw RecurError("\(input): 'x' has shape \(x.shape), the model needs [T, B, \(size)]", fix: "save x time-major: [steps, batch, features]")
        }
        return x
    }

    /// 'ids' [T, B]: whole numbers in 0..<vocabulary.
    func tokens(_ file: Safetensors, vocabulary: Int) throws -> (ids: [Int32], steps: Int, batch: Int) {
        guard let t = file["ids"], t.rank == 2, t.shape[0] > 0, t.shape[1] > 0 else {
            throw RecurError("\(input) has no tensor 'ids' of shape [T, B]", fix: "save the token ids time-major as {'ids': tensor of shape [steps, batch]}")
        }
        let values = t.scalars
        if let bad = values.firstIndex(where: { $0 != $0.rounded() || $0 < 0 || $0 >= Float(vocabulary) }) {
            throw RecurError("\(input): ids[\(bad / t.shape[1])][\(bad % t.shape[1])] is \(values[bad]), not a token id below \(vocabulary)",
                             fix: "use the ids of the model's vocabulary (0..<\(vocabulary))")
        }
        return (values.map { Int32($0) }, t.shape[0], t.shape[1])
    }

    /// Optional 'lengths' [B]: whole numbers in 1...T.
    func lengths(_ file: Safetensors, steps: Int, batch: Int) throws -> [Int]? {
        guard let t = file["lengths"] else { return nil }
        guard t.rank == 1, t.shape[0] == batch, t.scalars.allSatisfy({ $0 == $0.rounded() && $0 >= 1 && $0 <= Float(steps) }) else {
            throw RecurError("\(input): 'lengths' must be [\(batch)] whole numbers in 1...\(steps), got shape \(t.shape)", fix: "give each sequence's length in steps")
        }
        return t.scalars.map { Int($0) }
    }
}
