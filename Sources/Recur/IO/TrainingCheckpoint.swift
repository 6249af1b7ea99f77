import Foundation

/// A training run's state in one safetensors file, for `--save` / `--resume`: the weights
/// (PyTorch names), the optimizer state (`optimizer.*`), and as metadata the run's format tag,
/// the configuration it must be resumed with, its random streams, its progress (a Codable
/// value: step or epoch, history, best metric, ...) and the architecture (`model`), so that
/// the same file also works with `recur export` and `recur infer`.
///
/// Writes are atomic (see `AtomicFile.write`). The best weights go to a second file,
/// `bestPath(save)`, written whenever the run's metric improves, and into the checkpoint as
/// `best.*` tensors; a best file that a kill left out of step with its checkpoint (its
/// `best_step` differs) is rewritten from them on resume. `CheckpointLock` keeps two runs
/// from writing the same checkpoint.
public enum TrainingCheckpoint {
    /// `runs/x.safetensors` -> `runs/x.best.safetensors`.
    public static func bestPath(_ save: String) -> String {
        (save.hasSuffix(".safetensors") ? String(save.dropLast(12)) : save) + ".best.safetensors"
    }

    /// - identity: the configuration a resumed run must match (typically all but --epochs,
    ///   --steps and --threads).
    /// - extra: more metadata for the command's own readers (e.g. a language model's vocabulary).
    /// - best: the best weights so far, in `model.namedParameters` order; stored as `best.*`
    ///   tensors, so that the checkpoint alone restores early stopping and repairs its best file.
    public static func save<Progress: Encodable>(_ model: any Layer, optimizer: any Optimizer, progress: Progress,
                                                  random: [RandomGenerator], format: String, identity: String,
                                                  architecture: ModelConfig?, extra: [String: String] = [:],
                                                  best: [Tensor]? = nil, to path: String) throws {
        var meta = weightsMetadata(format: format, identity: identity, architecture: architecture, extra: extra)
        meta["progress"] = String(decoding: try encoder.encode(progress), as: UTF8.self)
        meta["rng"] = Checkpoint.encode(random)
        let bestTensors = best.map { zip(model.namedParameters, $0).map { ("best." + $0.0.name, $0.1) } } ?? []
        try Checkpoint.save(model, optimizer: optimizer, metadata: meta, extra: bestTensors, to: path)
    }

    /// The best weights so far (no optimizer state), to `bestPath(save)`, marked with the step
    /// they are from (`best_step`), which the checkpoint records too.
    public static func saveBest(_ model: any Layer, step: Int, format: String, identity: String, architecture: ModelConfig?,
                                extra: [String: String] = [:], save: String) throws {
        var meta = weightsMetadata(format: format, identity: identity, architecture: architecture, extra: extra)
        meta["best_step"] = String(step)
        try Checkpoint.save(model, metadata: meta, to: bestPath(save))
    }

    /// The step a best-weights file is from; nil when the file is missing or unmarked.
    public static func bestStep(of save: String) -> Int? {
        (try? Safetensors(contentsOf: URL(fileURLWithPath: bestPath(save)))).flatMap { $0.metadata["best_step"] }.flatMap { Int($0) }
    }

    /// The `best.*` tensors of a checkpoint, in `model.namedParameters` order; nil if it has none.
    public static func bestWeights(in file: Safetensors, model: any Layer) -> [Tensor]? {
        let list = model.namedParameters.compactMap { file["best." + $0.name] }
        return list.count == model.namedParameters.count && zip(list, model.namedParameters).allSatisfy({ $0.shape == $1.parameter.shape }) ? list : nil
    }

    /// Restores the weights and optimizer state into `model` and `optimizer`, after checking
    /// that the file is a checkpoint of this kind of run with this configuration, and that
    /// each `mustMatch` metadata entry (e.g. the vocabulary built from the data) is the same.
    public static func resume<Progress: Decodable>(_ path: String, model: any Layer, optimizer: any Optimizer,
                                                   format: String, identity: String, mustMatch: [String: String] = [:],
                                                   randomCount: Int, as: Progress.Type) throws -> (progress: Progress, random: [RandomGenerator], file: Safetensors) {
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        guard file.metadata["format"] == format else {
            throw RecurError("\(path): not a checkpoint of this command (format \(file.metadata["format"] ?? "none"), expected \(format))",
                             fix: "resume from a file written by the same command's --save")
        }
        guard file.metadata["training"] == identity else {
            throw RecurError("\(path): saved with another configuration: \(differences(file.metadata["training"] ?? "{}", identity))",
                             fix: "resume with the configuration the checkpoint was saved with (only the epochs, steps and threads may change)")
        }
        for (key, value) in mustMatch.sorted(by: { $0.key < $1.key }) where file.metadata[key] != value {
            // A JSON object (e.g. the class list and split sizes) names what differs.
            let saved = file.metadata[key] ?? "{}"
            let detail = saved.hasPrefix("{") && value.hasPrefix("{") ? ": " + differences(saved, value) : ""
            throw RecurError("\(path): its \(key) differs from this run's\(detail)", fix: "resume with the same data the checkpoint was trained on")
        }
        guard let text = file.metadata["progress"] else {
            throw RecurError("\(path): holds best weights only, not a training state", fix: "resume from the `save` file, not the .best one")
        }
        try Checkpoint.restore(model, from: file, source: path)
        try Checkpoint.restore(optimizer, from: file, source: path)
        let random = try Checkpoint.decode(file.metadata["rng"] ?? "", count: randomCount, source: path)
        do {
            return (try decoder.decode(Progress.self, from: Data(text.utf8)), random, file)
        } catch {
            throw RecurError("\(path): the saved progress is damaged", fix: "use another checkpoint")
        }
    }

    /// "hidden 16 in the checkpoint, 17 in this run; ..." for every key whose value differs.
    static func differences(_ saved: String, _ current: String) -> String {
        func fields(_ text: String) -> [String: String] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
            return object.mapValues { value in
                (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
        let a = fields(saved), b = fields(current)
        let keys = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
        guard !keys.isEmpty else { return "the configurations differ" }
        return keys.map { "\($0) \(a[$0] ?? "(none)") in the checkpoint, \(b[$0] ?? "(none)") in this run" }.joined(separator: "; ")
    }

    // A diverged run's NaN loss, or a best metric still at infinity, must not stop the save.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }()

    static func weightsMetadata(format: String, identity: String, architecture: ModelConfig?, extra: [String: String]) -> [String: String] {
        var meta = extra.merging(["format": format, "training": identity]) { _, own in own }
        if let architecture { meta["model"] = architecture.json }
        return meta
    }

    /// A configuration object without the keys that may change between a run and its resume.
    public static func identity(_ config: JSON, ignoring keys: Set<String> = ["epochs", "steps", "threads"]) -> String {
        guard case .object(let fields) = config else { return config.serialized() }
        return JSON.object(fields.filter { !keys.contains($0.0) }).serialized()
    }
}

/// An exclusive lock on a checkpoint path for the length of a run: `flock` on `PATH.lock`,
/// released (and the file removed) when the lock is dropped, or by the kernel when the
/// process dies, so a killed run never leaves a stale lock.
public final class CheckpointLock {
    public let path: String
    private let fd: Int32

    public init(_ save: String) throws {
        path = save + ".lock"
        fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw AtomicFile.failure(path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RecurError("\(save) is being written by another run (it holds \(path))",
                             fix: "wait for that run to end, or save to another file")
        }
    }

    deinit {
        unlink(path)
        close(fd)
    }
}
