import Recur
import Foundation

/// A folder in Google Speech Commands v0.02 layout: one folder per class of .wav clips, and
/// `validation_list.txt` / `testing_list.txt` at the root naming clips (relative paths) for
/// validation and test; every other clip of the chosen classes trains.
public struct SpeechCommandsDataset: Sendable {
    public struct Clip: Sendable, Equatable {
        public let path: String
        public let label: Int
    }

    public let root: String
    public let classes: [String]
    public var train: [Clip] = [], valid: [Clip] = [], test: [Clip] = []
    /// Problems that did not stop loading (e.g. list entries naming missing files).
    public var warnings: [String] = []

    /// - classes: folder names, or nil for every folder except `_background_noise_`.
    public init(root: String, classes requested: [String]?) throws {
        self.root = root
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw RecurError("\(root): no such folder", fix: "give the Speech Commands root folder as `root` (class folders and the two list files)")
        }
        let folders = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && name != "_background_noise_" && fm.fileExists(atPath: root + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted()
        if let odd = folders.first(where: { $0.contains("\u{FFFD}") }) {
            throw RecurError("\(root): the folder name '\(odd)' is not valid UTF-8", fix: "rename it to a UTF-8 name")
        }
        let chosen = requested ?? folders
        for (i, c) in chosen.enumerated() where chosen[..<i].contains(c) {
            throw RecurError("`classes` lists '\(c)' twice", fix: "name each class once")
        }
        for c in chosen where !folders.contains(c) {
            throw RecurError("\(root): no class folder '\(c)'", fix: "choose `classes` from \(folders.joined(separator: ","))")
        }
        guard !chosen.isEmpty else { throw RecurError("\(root): no class folders", fix: "check the `root` path") }
        classes = chosen
        func list(_ name: String) throws -> Set<String> {
            let path = root + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw RecurError("\(path): missing", fix: "the Speech Commands layout needs validation_list.txt and testing_list.txt at the root")
            }
            return Set(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        let validList = try list("validation_list.txt"), testList = try list("testing_list.txt")
        var seen = Set<String>()
        for (label, c) in chosen.enumerated() {
            let files = ((try? fm.contentsOfDirectory(atPath: root + "/" + c)) ?? []).filter { $0.lowercased().hasSuffix(".wav") }.sorted()
            guard !files.isEmpty else { throw RecurError("\(root)/\(c): the class has no .wav files", fix: "remove it from `classes` or add clips") }
            for f in files {
                let rel = c + "/" + f
                seen.insert(rel)
                let clip = Clip(path: root + "/" + rel, label: label)
                if testList.contains(rel) { test.append(clip) } else if validList.contains(rel) { valid.append(clip) } else { train.append(clip) }
            }
        }
        for (name, entries) in [("validation_list.txt", validList), ("testing_list.txt", testList)] {
            let missing = entries.filter { e in chosen.contains(where: { e.hasPrefix($0 + "/") }) && !seen.contains(e) }
            if !missing.isEmpty {
                warnings.append("\(name): \(missing.count) entries name missing files (e.g. \(missing.sorted()[0])); they are ignored")
            }
        }
        for (split, clips) in [("train", train), ("validation", valid), ("test", test)] where clips.isEmpty {
            throw RecurError("\(root): the \(split) split of \(chosen.joined(separator: ",")) is empty", fix: "check the list files")
        }
    }
}
