import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct SafetensorsTests {
    func sample() -> Safetensors {
        var s = Safetensors()
        s["rnn.weight_ih_l0"] = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])
        s["head.bias"] = Tensor([-1.5], shape: [1])
        s["empty"] = Tensor(zeros: [0, 4])
        s.metadata["cell"] = "lstm"
        return s
    }

    @Test func roundTrip() throws {
        let data = sample().serialized()
        let back = try Safetensors(data: data)
        #expect(back["rnn.weight_ih_l0"]!.scalars == [1, 2, 3, 4, 5, 6])
        #expect(back["rnn.weight_ih_l0"]!.shape == [3, 2])
        #expect(back["head.bias"]!.scalars == [-1.5])
        #expect(back["empty"]!.shape == [0, 4])
        #expect(back.metadata == ["cell": "lstm"])
    }

    @Test func writesAndReadsFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try sample().write(to: url)
        #expect(try Safetensors(contentsOf: url)["head.bias"]!.scalars == [-1.5])
    }

    /// Overwriting replaces the file in one rename and leaves no temporary file behind; a
    /// write that cannot happen throws and keeps the old file.
    @Test func writesAtomically() throws {
        let dir = temporaryFolder()
        let url = dir.appendingPathComponent("model.safetensors")
        try sample().write(to: url)
        var bigger = sample()
        bigger["extra"] = Tensor(repeating: 2, shape: [1000])
        try bigger.write(to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
        #expect(try Safetensors(contentsOf: url)["extra"]!.count == 1000)
        #expect { try sample().write(to: dir.appendingPathComponent("missing/model.safetensors")) } throws: { error in
            "\(error)".contains("missing does not exist")
        }
        // A temporary file that a killed writer left (its PID is gone) goes at the next write.
        let stale = dir.appendingPathComponent(".model.safetensors.tmp-999999").path
        _ = FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3]))
        try sample().write(to: url)
        #expect(!FileManager.default.fileExists(atPath: stale))
        // Under a regular file, the message says so.
        #expect { try sample().write(to: url.appendingPathComponent("x.safetensors")) } throws: { error in
            "\(error)".contains("model.safetensors is a file, not a folder")
        }
    }

    static func file(header: String, data: [UInt8] = [], declaredSize: UInt64? = nil) -> Data {
        var d = Data()
        var n = (declaredSize ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    static let malformed: [(String, Data)] = [
        ("too short", Data([1, 2, 3])),
        ("header larger than file", file(header: "{}", declaredSize: 1 << 40)),
        ("not JSON", file(header: "{not json")),
        ("not an object", file(header: "[1,2]")),
        ("bad dtype", file(header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])),
        ("shape vs offsets", file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))),
        ("out of bounds", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])),
        ("overlap", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8))),
        ("negative dim", file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#)),
        ("huge shape", file(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#)),
        ("bad metadata", file(header: #"{"__metadata__":{"k":1}}"#)),
        ("missing offsets", file(header: #"{"a":{"dtype":"F32","shape":[1]}}"#)),
    ]

    @Test(arguments: 0..<malformed.count)
    func rejectsMalformed(_ i: Int) {
        let (label, data) = Self.malformed[i]
        #expect(throws: SafetensorsError.self, "\(label)") { try Safetensors(data: data, source: "bad.safetensors") }
        do { _ = try Safetensors(data: data, source: "bad.safetensors") } catch {
            #expect("\(error)".hasPrefix("bad.safetensors: "), "error names the file: \(error)")
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: SafetensorsError.self) { try Safetensors(contentsOf: URL(fileURLWithPath: "/nonexistent/x.safetensors")) }
    }
}

/// The fuzzer's seed corpora (Fuzz/corpus/<target>) are valid files: each one loads.
@Suite struct FuzzCorpusTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus").standardized

    func files(_ target: String) throws -> [(name: String, path: String, data: Data)] {
        let dir = Self.folder.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { name in
            let path = dir.appendingPathComponent(name).path
            return (name, path, try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    @Test func seedCorpusLoads() throws {
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).sorted()
        #expect(targets == ["config", "csv", "lmcheckpoint", "modelfile", "safetensors", "text", "tsv", "wav"])
        for f in try files("safetensors") { #expect(throws: Never.self, "\(f.name)") { try Safetensors(data: f.data, source: f.name) } }
        for f in try files("wav") { #expect(try !WAVFile(data: f.data, source: f.name).samples.isEmpty, "\(f.name)") }
        for f in try files("config") { #expect(throws: Never.self, "\(f.name)") { try ModelConfig(json: f.data, source: f.name) } }
        for f in try files("modelfile") { #expect(throws: Never.self, "\(f.name)") { try Checkpoint.loadModel(f.path) } }
        for f in try files("csv") { #expect(try CSVTable(text: String(decoding: f.data, as: UTF8.self), source: f.name).rows.count >= 2) }
        for f in try files("tsv") { #expect(try ReviewCorpus.tsv(f.path).reviews.count == 4) }
        for f in try files("text") { #expect(TextCorpus.units(ofText: String(decoding: f.data, as: UTF8.self), level: .word).units.count > 5) }
        for f in try files("lmcheckpoint") { #expect(throws: Never.self, "\(f.name)") { try LanguageModelExperiment.load(f.path) } }
    }
}
