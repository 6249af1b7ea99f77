import Recur
import Foundation

/// Language-modelling text in the PTB format: one sentence per line, tokens separated by
/// spaces, `<unk>` already present; `<eos>` ends every line. At the char level each
/// character is a unit, spaces become `_` (as PTB's char files) and lines still end in `<eos>`.
public enum TextCorpus {
    public enum Level: String, Sendable, CaseIterable, Codable { case word, char }
    public static let endOfSentence = "<eos>", unknown = "<unk>"

    /// Units of a file, with the 1-based line of each unit (for error messages).
    public static func units(ofFile path: String, level: Level) throws -> (units: [String], lines: [Int32]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecurError("\(path): cannot read the text file", fix: "check the path (PTB needs ptb.train.txt, ptb.valid.txt, ptb.test.txt)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RecurError("\(path): not UTF-8 text", fix: "save the file as UTF-8")
        }
        let result = units(ofText: text, level: level)
        guard !result.units.isEmpty else { throw RecurError("\(path): the file has no text", fix: "give a non-empty corpus") }
        return result
    }

    public static func units(ofText text: String, level: Level) -> (units: [String], lines: [Int32]) {
        var units: [String] = [], lines: [Int32] = []
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let pieces: [String]
            switch level {
            case .word: pieces = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            case .char: pieces = trimmed.map { $0 == " " ? "_" : String($0) }
            }
            units += pieces + [endOfSentence]
            lines += [Int32](repeating: Int32(i + 1), count: pieces.count + 1)
        }
        return (units, lines)
    }
}

/// Token ids for a language model, built from the training units: ordered by frequency
/// (most frequent first), ties by first appearance.
public struct TokenVocabulary: Sendable, Equatable {
    public let tokens: [String]
    public let ids: [String: Int32]

    public init(tokens: [String]) {
        self.tokens = tokens
        ids = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, Int32($0)) })
    }

    public init(training units: [String]) {
        var counts: [String: Int] = [:], order: [String] = []
        for u in units {
            if counts[u] == nil { order.append(u) }
            counts[u, default: 0] += 1
        }
        let first = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        self.init(tokens: order.sorted { (counts[$0]!, first[$1]!) > (counts[$1]!, first[$0]!) })
    }

    public var count: Int { tokens.count }

    /// A saved vocabulary must list at least one unit, each once and none empty (ids are
    /// positions in the list, so a duplicate would give one word two ids).
    public static func check(_ tokens: [String], source: String) throws {
        guard !tokens.isEmpty else { throw RecurError("\(source): the vocabulary is empty", fix: "the checkpoint is damaged; use another one") }
        var seen = Set<String>()
        for (i, t) in tokens.enumerated() {
            guard !t.isEmpty else { throw RecurError("\(source): vocabulary entry \(i) is empty", fix: "the checkpoint is damaged; use another one") }
            guard seen.insert(t).inserted else {
                throw RecurError("\(source): the vocabulary lists '\(t)' twice (entry \(i))", fix: "the checkpoint is damaged; use another one")
            }
        }
    }

    /// Ids of `units` from `file`; unknown units become `<unk>`, or are an error naming the
    /// file and line when the vocabulary has no `<unk>`.
    public func encode(_ units: [String], lines: [Int32], file: String) throws -> [Int32] {
        let unk = ids[TextCorpus.unknown]
        var out = [Int32](); out.reserveCapacity(units.count)
        for (i, u) in units.enumerated() {
            if let id = ids[u] ?? unk { out.append(id); continue }
            throw RecurError("\(file):\(lines[i]): '\(u)' is not in the training vocabulary, which has no \(TextCorpus.unknown)",
                             fix: "replace rare words with <unk> in the corpus, or train on text that contains them")
        }
        return out
    }
}

/// A token stream cut into B parallel streams: stream b is the b-th contiguous slice of
/// the data, laid out time-major as [steps, B] (the PyTorch/Zaremba `batchify`).
public struct BatchedStream: Sendable {
    public let batch: Int
    public let steps: Int
    /// data[t * batch + b]
    public let data: [Int32]

    public init(_ ids: [Int32], batch: Int) throws {
        let steps = ids.count / batch
        guard batch >= 1, steps >= 2 else {
            throw RecurError("\(ids.count) tokens are too few for \(batch) streams", fix: "use a smaller `batchSize` or a longer corpus")
        }
        var data = [Int32](repeating: 0, count: steps * batch)
        for b in 0..<batch { for t in 0..<steps { data[t * batch + b] = ids[b * steps + t] } }
        self.batch = batch
        self.steps = steps
        self.data = data
    }

    /// Window starts for truncated BPTT of length `bptt`.
    public func windowStarts(bptt: Int) -> StrideTo<Int> { stride(from: 0, to: steps - 1, by: bptt) }

    /// Inputs and next-token targets of the window starting at `start`: both [T, B] flat.
    public func window(at start: Int, bptt: Int) -> (inputs: [Int32], targets: [Int32], steps: Int) {
        let T = min(bptt, steps - 1 - start)
        return (Array(data[(start * batch)..<((start + T) * batch)]), Array(data[((start + 1) * batch)..<((start + 1 + T) * batch)]), T)
    }
}
