import ArgumentParser
import Foundation
import Recur
import RecurExperiments

/// `recur export`: a checkpoint's weights for PyTorch.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's weights for PyTorch (safetensors.torch.load_file + load_state_dict).",
        discussion: "Drops the optimizer state; names stay PyTorch state-dict names (rnn.weight_ih_l0, head.weight, embedding.weight). See docs/interop.md."
    )

    enum Target: String, ExpressibleByArgument { case pytorch }

    @Option(help: "A Recur checkpoint (recur lm --save, recur init, recur import).") var checkpoint: String
    @Option(help: "Target framework.") var to: Target = .pytorch
    @Argument(help: "Output .safetensors file.") var output: String

    func run() throws {
        let names = try Checkpoint.exportWeights(from: checkpoint, to: output)
        print("wrote \(output): \(names.count) tensors (\(names.joined(separator: ", ")))")
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

    func run() throws {
        let cfg = try ModelConfig.load(config)
        let model = cfg.makeModel(seed: seed)
        try Checkpoint.save(model, metadata: ["model": cfg.json], to: out)
        print("wrote \(out): \(model.parameterCount) parameters")
    }
}

/// `recur infer`: a sequence model's outputs for a batch stored as safetensors.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a sequence model on tensor 'x' [T, B, input_size] (time-major, as nn.LSTM) and save its outputs.",
        discussion: "Writes 'output' [T, B, D*H], 'h_n' [L*D, B, H], 'c_n' (LSTM) and 'logits' [B, output_size], the head applied to the top layer's final states."
    )

    @Option(help: "Recur model file (or PyTorch weights with --config).") var checkpoint: String
    @Option(help: "Model configuration JSON, for files without Recur metadata.") var config: String?
    @Option(help: "safetensors file with tensor 'x'.") var input: String
    @Option(help: "Output safetensors file.") var output: String

    func run() throws {
        let (cfg, layer, _) = try Checkpoint.loadModel(checkpoint, config: try config.map(ModelConfig.load))
        guard let model = layer as? SequenceModel else {
            throw RecurError("\(checkpoint) holds a \(cfg.task.rawValue) model; infer runs sequence models", fix: "use recur generate for language models")
        }
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: input))
        guard let x = file["x"] else { throw RecurError("\(input) has no tensor 'x'", fix: "save the batch as {'x': tensor of shape [T, B, \(cfg.inputSize!)]}") }
        guard x.rank == 3, x.shape[2] == cfg.inputSize, x.shape[0] > 0, x.shape[1] > 0 else {
            throw RecurError("\(input): 'x' has shape \(x.shape), the model needs [T, B, \(cfg.inputSize!)]", fix: "save x time-major: [steps, batch, features]")
        }
        model.training = false
        let (r, logits) = model.run(x)
        var out = Safetensors()
        out["output"] = r.output
        out["h_n"] = r.state.h
        if let c = r.state.c { out["c_n"] = c }
        out["logits"] = logits
        try out.write(to: URL(fileURLWithPath: output))
        print("wrote \(output): " + out.names.map { "\($0) \(out[$0]!.shape)" }.joined(separator: ", "))
    }
}
