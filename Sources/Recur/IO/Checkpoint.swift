import Foundation

/// Model checkpoints as safetensors: parameters under their PyTorch state-dict names (so
/// `safetensors.torch.load_file` reads them), optimizer state under `optimizer.<key>`, and
/// everything else (configuration, vocabulary, epoch, random streams) as metadata strings.
public enum Checkpoint {
    /// Writes atomically (temporary file, then rename): a crash never leaves a broken file
    /// in place of the last good one.
    /// - extra: more tensors under their own names (e.g. a training checkpoint's `best.*`).
    public static func save(_ model: any Layer, optimizer: (any Optimizer)? = nil, metadata: [String: String],
                            extra: [(name: String, tensor: Tensor)] = [], to path: String) throws {
        var file = Safetensors()
        for (name, p) in model.namedParameters { file[name] = p.value }
        for (name, t) in extra { file[name] = t }
        if let optimizer {
            for (key, t) in optimizer.state.sorted(by: { $0.key < $1.key }) { file["optimizer." + key] = t }
        }
        file.metadata = metadata
        if let optimizer { file.metadata["optimizer_step"] = String(optimizer.stepCount) }
        try file.write(to: URL(fileURLWithPath: path))
    }

    /// Copies the file's tensors into the model, checking that every parameter is there with
    /// its shape and that the file holds no unknown parameters.
    public static func restore(_ model: any Layer, from file: Safetensors, source: String) throws {
        let expected = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter) })
        for name in file.names where !isTrainingState(name) && expected[name] == nil {
            throw RecurError("\(source): tensor '\(name)' does not belong to this model", fix: "load a checkpoint of the same model configuration")
        }
        for (name, p) in expected {
            guard let t = file[name] else {
                throw RecurError("\(source): parameter '\(name)' is missing", fix: "load a checkpoint of the same model configuration")
            }
            guard t.shape == p.shape else {
                throw RecurError("\(source): '\(name)' has shape \(t.shape), the model needs \(p.shape)", fix: "load a checkpoint of the same model configuration")
            }
            p.value.assign(t)
        }
    }

    /// Tensors of a training checkpoint that are not the model's: optimizer state and the
    /// best weights so far.
    static func isTrainingState(_ name: String) -> Bool { name.hasPrefix("optimizer.") || name.hasPrefix("best.") }

    public static func restore(_ optimizer: any Optimizer, from file: Safetensors, source: String) throws {
        for (key, t) in optimizer.state {
            guard let saved = file["optimizer." + key], saved.shape == t.shape else {
                throw RecurError("\(source): optimizer state '\(key)' is missing or has another shape",
                                 fix: "resume with the same --optimizer the checkpoint was trained with")
            }
            t.assign(saved)
        }
        optimizer.stepCount = Int(file.metadata["optimizer_step"] ?? "0") ?? 0
    }

    /// "s0,s1,s2,s3;..." for random streams, and back.
    public static func encode(_ generators: [RandomGenerator]) -> String {
        generators.map { g in [g.state.0, g.state.1, g.state.2, g.state.3].map(String.init).joined(separator: ",") }.joined(separator: ";")
    }

    public static func decode(_ text: String, count: Int, source: String) throws -> [RandomGenerator] {
        let parts = text.split(separator: ";").map { $0.split(separator: ",").compactMap { UInt64($0) } }
        guard parts.count == count, parts.allSatisfy({ $0.count == 4 }) else {
            throw RecurError("\(source): the saved random state is malformed", fix: "the checkpoint is damaged; use another one")
        }
        return parts.map { p in
            var g = RandomGenerator(seed: 0)
            g.state = (p[0], p[1], p[2], p[3])
            return g
        }
    }
}

/// Model files for moving between Recur and PyTorch: tensors under state-dict names plus the
/// architecture (`ModelConfig`) in the `model` metadata entry.
extension Checkpoint {
    /// Builds the model a file describes and loads its weights, checking every name and shape.
    /// `config` is for files without Recur metadata (e.g. saved from PyTorch). With tied
    /// weights, a `head.weight` in the file must equal `embedding.weight` and is not loaded twice.
    public static func loadModel(_ path: String, config: ModelConfig? = nil) throws -> (config: ModelConfig, model: any Layer, file: Safetensors) {
        var file = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        let cfg: ModelConfig
        if let config {
            cfg = config
        } else if let text = file.metadata["model"] {
            cfg = try ModelConfig(json: Data(text.utf8), source: path + " (its model metadata)")
        } else {
            throw RecurError("\(path) does not say which model it holds", fix: "give a `config` (a model.json, see docs/interop.md), or use a file written by Recur")
        }
        if cfg.tied, let head = file["head.weight"], let embedding = file["embedding.weight"] {
            guard head.scalars == embedding.scalars else {
                throw RecurError("\(path): the configuration says tied, but head.weight differs from embedding.weight", fix: "set \"tied\": false")
            }
            file["head.weight"] = nil
        }
        try checkShapes(cfg, file: file, source: path)
        let model = cfg.makeModel(seed: 0)
        try restore(model, from: file, source: path)
        return (cfg, model, file)
    }

    /// Checks a file's tensors against what `config` describes, by name and shape, before any
    /// model is allocated: a configuration's sizes are never trusted on their own.
    public static func checkShapes(_ cfg: ModelConfig, file: Safetensors, source path: String) throws {
        let expected = cfg.parameterShapes
        let names = Set(expected.map(\.name))
        for name in file.names where !isTrainingState(name) && !names.contains(name) {
            throw RecurError("\(path): tensor '\(name)' does not belong to the \(cfg.task.rawValue) model its configuration describes",
                             fix: "load a file whose configuration matches its tensors")
        }
        for (name, shape) in expected {
            guard let t = file[name] else {
                throw RecurError("\(path): parameter '\(name)' \(shape) is missing", fix: "load a file whose configuration matches its tensors")
            }
            guard t.shape == shape else {
                throw RecurError("\(path): '\(name)' has shape \(t.shape), and its configuration needs \(shape)",
                                 fix: "load a file whose configuration matches its tensors")
            }
        }
    }

    /// Writes weights only, under PyTorch state-dict names: no optimizer state; with tied
    /// weights `head.weight` as its own copy of `embedding.weight` (as `state_dict()` lists it);
    /// with a single recurrent bias, zero `bias_hh` tensors (PyTorch always has both).
    /// Keeps the `model` (and `vocabulary`) metadata, which PyTorch ignores.
    /// - Returns: the tensor names, and `caveat`: why no stock `nn` module computes this model
    ///   (a cell or activation PyTorch lacks), nil when `nn.LSTM`/`nn.GRU`/`nn.RNN` does.
    public static func exportWeights(from path: String, to output: String) throws -> (names: [String], caveat: String?) {
        let (cfg, model, source) = try loadModel(path)
        let caveat = pytorchCaveat(cfg)
        var out = Safetensors()
        for (name, p) in model.namedParameters { out[name] = p.value }
        if cfg.tied, let embedding = out["embedding.weight"] { out["head.weight"] = embedding.copy() }
        var exported = cfg
        if cfg.bias == .single {
            // nn.LSTM/GRU/RNN(bias=True) has both vectors; a zero bias_hh computes the same.
            for name in out.names where name.hasPrefix("rnn.bias_ih_") {
                out["rnn.bias_hh_" + name.dropFirst("rnn.bias_ih_".count)] = Tensor(zeros: out[name]!.shape)
            }
            exported.bias = .separate
        }
        out.metadata = ["format": "pt", "model": exported.json]
        if let vocabulary = source.metadata["vocabulary"] { out.metadata["vocabulary"] = vocabulary }
        try out.write(to: URL(fileURLWithPath: output))
        return (out.names, caveat)
    }

    /// Why `load_state_dict` into PyTorch's stock modules would not give this model's outputs,
    /// or nil when it would.
    /// The advice that ends a caveat: what to do without a stock module.
    public static let ownModuleAdvice = "read the tensors with safetensors into a module of your own (docs/cells.md gives the equations and tensor names)"

    static func pytorchCaveat(_ cfg: ModelConfig) -> String? {
        let ownModule = ownModuleAdvice
        if cfg.task == .jordan { return "PyTorch has no Jordan network module: " + ownModule }
        guard cfg.cell.isPyTorchModule else { return "PyTorch has no nn module for the \(cfg.cell.rawValue) cell: " + ownModule }
        if let kind = cfg.sentimentModel, kind.units == 1 {
            return "\(kind.rawValue)'s single unit runs with sigmoid activations (it is the output), which no PyTorch nn module computes: " + ownModule
        }
        if let a = cfg.activation, a != .tanh, !(cfg.cell == .rnn && a == .relu) {
            return "nn.\(cfg.cell.displayName) computes tanh, and this model uses \(a.rawValue): " + ownModule
        }
        let resetBefore = cfg.task == .sentiment ? !(cfg.convention ?? .keras1).gruResetAfter : !cfg.resetAfter
        if cfg.cell == .gru && resetBefore {
            return "this GRU resets before the recurrent product (TF 1.x Keras), and nn.GRU resets after it: " + ownModule
        }
        if cfg.merge != .concat {
            return "this model merges its two directions by '\(cfg.merge.rawValue)', and PyTorch's bidirectional layers concatenate them: apply the \(cfg.merge.rawValue) to the two halves of the output after loading"
        }
        return nil
    }
}
