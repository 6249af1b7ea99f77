import Foundation

/// A training run's state in one safetensors file, for `--save` / `--resume`: the weights
/// (PyTorch names), the optimizer state (`optimizer.*`), and as metadata the run's format tag,
/// the configuration it must be resumed with, its random streams, its progress (a Codable
/// value: step or epoch, history, best metric, ...) and the architecture (`model`), so that
/// the same file also works with `recur export` and `recur infer`.
///
/// Writes are atomic (see `Safetensors.write`). The best weights go to a second file,
/// `bestPath(save)`, written whenever the run's metric improves.
public enum TrainingCheckpoint {
    /// `runs/x.safetensors` -> `runs/x.best.safetensors`.
    public static func bestPath(_ save: String) -> String {
        (save.hasSuffix(".safetensors") ? String(save.dropLast(12)) : save) + ".best.safetensors"
    }

    /// - identity: the configuration a resumed run must match (typically all but --epochs,
    ///   --steps and --threads).
    /// - extra: more metadata for the command's own readers (e.g. a language model's vocabulary).
    public static func save<Progress: Encodable>(_ model: any Layer, optimizer: any Optimizer, progress: Progress,
                                                  random: [RandomGenerator], format: String, identity: String,
                                                  architecture: ModelConfig?, extra: [String: String] = [:], to path: String) throws {
        var meta = weightsMetadata(format: format, identity: identity, architecture: architecture, extra: extra)
        meta["progress"] = String(decoding: try encoder.encode(progress), as: UTF8.self)
        meta["rng"] = Checkpoint.encode(random)
        try Checkpoint.save(model, optimizer: optimizer, metadata: meta, to: path)
    }

    /// The best weights so far (no optimizer state), to `bestPath(save)`.
    public static func saveBest(_ model: any Layer, format: String, identity: String, architecture: ModelConfig?,
                                extra: [String: String] = [:], save: String) throws {
        try Checkpoint.save(model, metadata: weightsMetadata(format: format, identity: identity, architecture: architecture, extra: extra),
                            to: bestPath(save))
    }

    /// Restores the weights and optimizer state into `model` and `optimizer`, after checking
    /// that the file is a checkpoint of this kind of run with this configuration, and that
    /// each `mustMatch` metadata entry (e.g. the vocabulary built from the data) is the same.
    public static func resume<Progress: Decodable>(_ path: String, model: any Layer, optimizer: any Optimizer,
                                                   format: String, identity: String, mustMatch: [String: String] = [:],
                                                   randomCount: Int, as: Progress.Type) throws -> (progress: Progress, random: [RandomGenerator]) {
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
            throw RecurError("\(path): its \(key) differs from this run's", fix: "resume with the same data the checkpoint was trained on")
        }
        guard let text = file.metadata["progress"] else {
            throw RecurError("\(path): holds best weights only, not a training state", fix: "resume from the `save` file, not the .best one")
        }
        try Checkpoint.restore(model, from: file, source: path)
        try Checkpoint.restore(optimizer, from: file, source: path)
        let random = try Checkpoint.decode(file.metadata["rng"] ?? "", count: randomCount, source: path)
        do {
            return (try decoder.decode(Progress.self, from: Data(text.utf8)), random)
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
