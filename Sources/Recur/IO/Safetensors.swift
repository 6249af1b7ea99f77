import Foundation

/// A safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian
/// header size N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]},
/// "__metadata__": {string: string}}`, then the tensor bytes. Recur reads and writes F32.
///
/// Loading checks everything before it allocates or copies: the header size against the
/// file size, the JSON, each dtype, that each shape's byte count equals its offsets, and that
/// offsets are in bounds and do not overlap. Every failure is a `SafetensorsError` that names
/// the file and the tensor.
public struct Safetensors: Sendable {
    /// Tensor names in file order (sorted by offset).
    public private(set) var names: [String] = []
    public private(set) var tensors: [String: Tensor] = [:]
    public var metadata: [String: String] = [:]

    public init() {}

    public subscript(name: String) -> Tensor? {
        get { tensors[name] }
        set {
            if tensors[name] == nil, newValue != nil { names.append(name) }
            if newValue == nil { names.removeAll { $0 == name } }
            tensors[name] = newValue
        }
    }

    /// Largest header accepted (the format's own reference limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafetensorsError(file: url.path, problem: "cannot be read (\(error.localizedDescription))",
                                   fix: "check the path and permissions")
        }
        try self.init(data: data, source: url.path)
    }

    public init(data: Data, source: String = "<memory>") throws {
        func fail(_ problem: String, _ fix: String = "the file is not a valid safetensors file; re-export it") -> SafetensorsError {
            SafetensorsError(file: source, problem: problem, fix: fix)
        }
        guard data.count >= 8 else { throw fail("is \(data.count) bytes, shorter than the 8-byte header size") }
        var n: UInt64 = 0
        for (i, byte) in data.prefix(8).enumerated() { n |= UInt64(byte) << UInt64(8 * i) }
        guard n <= UInt64(Self.maxHeaderBytes), Int(n) <= data.count - 8 else {
            throw fail("declares a \(n)-byte header but the file has \(data.count - 8) bytes after the size field")
        }
        let headerStart = data.startIndex + 8, dataStart = headerStart + Int(n)
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data[headerStart..<dataStart]) } catch {
            throw fail("has a header that is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw fail("has a header that is not a JSON object") }
        let byteCount = data.count - 8 - Int(n)
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("has __metadata__ that is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("has __metadata__ value for \"\(k)\" that is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw fail("entry \"\(name)\" is not an object") }
            guard let dtype = info["dtype"] as? String else { throw fail("tensor \"\(name)\" has no dtype") }
            guard dtype == "F32" else {
                throw fail("tensor \"\(name)\" has dtype \(dtype); Recur reads F32 only",
                           "convert it to float32 before saving (e.g. tensor.float())")
            }
            guard let shapeAny = info["shape"] as? [Any], let offAny = info["data_offsets"] as? [Any], offAny.count == 2 else {
                throw fail("tensor \"\(name)\" needs a shape list and two data_offsets")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let i = Self.exactInt(v), i >= 0 else { throw fail("tensor \"\(name)\" has an invalid dimension \(v)") }
                return i
            }
            guard let begin = Self.exactInt(offAny[0]), let end = Self.exactInt(offAny[1]),
                  begin >= 0, end >= begin, end <= byteCount else {
                throw fail("tensor \"\(name)\" has data_offsets \(offAny) outside the \(byteCount) data bytes")
            }
            var count = 1
            for d in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= byteCount / 4 + 1 else { throw fail("tensor \"\(name)\" has a shape \(shape) larger than the file") }
                count = p
            }
            guard count * 4 == end - begin else {
                throw fail("tensor \"\(name)\" has shape \(shape) (\(count * 4) bytes) but offsets span \(end - begin) bytes")
            }
            entries.append((name, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw fail("tensors \"\(a.name)\" and \"\(b.name)\" overlap")
        }
        for e in entries {
            let t = Tensor(zeros: e.shape)
            data[(dataStart + e.begin)..<(dataStart + e.end)].withUnsafeBytes { raw in
                // Little-endian F32 on every platform Recur supports.
                UnsafeMutableRawPointer(t.pointer).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
            }
            self[e.name] = t
        }
    }

    private static func exactInt(_ v: Any) -> Int? {
        if let i = v as? Int { return i }
        if let d = v as? Double, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    /// The file's bytes: header sorted by name, data in `names` order, header padded to 8.
    public func serialized() -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]]
            offset += t.count * 4
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data(capacity: 8 + json.count + offset)
        var size = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &size) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            let t = tensors[name]!
            out.append(UnsafeBufferPointer(start: t.pointer, count: t.count))
        }
        return out
    }

    /// Writes the file atomically and durably (`AtomicFile.write`).
    public func write(to url: URL) throws {
        try AtomicFile.write(serialized(), to: url.path)
    }
}

/// A safetensors file that cannot be used, with what is wrong and how to fix it.
public struct SafetensorsError: Error, CustomStringConvertible, LocalizedError {
    public let file: String
    public let problem: String
    public let fix: String
    public var description: String { "\(file): \(problem); \(fix)" }
    public var errorDescription: String? { description }
}
