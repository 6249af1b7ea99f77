import Recur
import Foundation

/// Labelled texts for binary sentiment (seed 004): from a TSV file, an aclImdb folder, or
/// the synthetic generator.
public struct ReviewCorpus: Sendable {
    public struct Review: Sendable {
        /// 0 negative, 1 positive.
        public let label: Float
        public let text: String
    }

    public var reviews: [Review]
    /// Lines left out with `skipBad`.
    public var skipped = 0

    public init(reviews: [Review], skipped: Int = 0) {
        self.reviews = reviews
        self.skipped = skipped
    }

    static func parseLabel(_ s: String) -> Float? {
        switch s.trimmingCharacters(in: .whitespaces).lowercased() {
        case "0", "neg", "negative": return 0
        case "1", "pos", "positive": return 1
        default: return nil
        }
    }

    /// `label<TAB>text` per line; labels 0/1 or neg/pos. A malformed line is an error naming
    /// the file and line, or is counted and left out with `skipBad`.
    public static func tsv(_ path: String, skipBad: Bool = false) throws -> ReviewCorpus {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecurError("\(path): cannot read the review file", fix: "check the path")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RecurError("\(path): not UTF-8 text", fix: "save the file as UTF-8")
        }
        var reviews: [Review] = [], skipped = 0
        // "\r\n" is one Character in Swift: split on it, "\n" and old Macs' "\r".
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let problem: String
            if let tab = line.firstIndex(of: "\t") {
                let labelText = String(line[..<tab]), body = String(line[line.index(after: tab)...])
                if let label = parseLabel(labelText) {
                    if !body.trimmingCharacters(in: .whitespaces).isEmpty {
                        reviews.append(Review(label: label, text: body))
                        continue
                    }
                    problem = "the review text is empty"
                } else {
                    problem = "label '\(labelText)' is not 0, 1, neg or pos"
                }
            } else {
                problem = "no tab between the label and the text"
            }
            if skipBad { skipped += 1; continue }
            throw RecurError("\(path):\(i + 1): \(problem)", fix: "write lines as label<TAB>text, or load with `skipBad` to leave such lines out")
        }
        guard !reviews.isEmpty else {
            throw RecurError("\(path): no reviews", fix: "give lines of the form label<TAB>text")
        }
        return ReviewCorpus(reviews: reviews, skipped: skipped)
    }

    /// aclImdb layout: `dir/pos/*.txt` and `dir/neg/*.txt`, one review per file.
    public static func folder(_ dir: String) throws -> ReviewCorpus {
        var reviews: [Review] = []
        for (name, label) in [("neg", Float(0)), ("pos", Float(1))] {
            let sub = URL(fileURLWithPath: dir).appendingPathComponent(name)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: sub.path) else {
                throw RecurError("\(sub.path): folder missing", fix: "an aclImdb split has pos/ and neg/ folders of .txt reviews")
            }
            for f in files.filter({ $0.hasSuffix(".txt") }).sorted() {
                let path = sub.appendingPathComponent(f).path
                guard let d = FileManager.default.contents(atPath: path), let text = String(data: d, encoding: .utf8) else {
                    throw RecurError("\(path): cannot read the review as UTF-8 text", fix: "fix or remove the file")
                }
                reviews.append(Review(label: label, text: text))
            }
        }
        guard !reviews.isEmpty else { throw RecurError("\(dir): no .txt reviews in pos/ or neg/", fix: "check the folder") }
        return ReviewCorpus(reviews: reviews)
    }

    /// Splits off a fraction with a fixed seed (seed 004: half of the test set validates).
    public func split(fraction: Double, seed: UInt64) -> (kept: ReviewCorpus, taken: ReviewCorpus) {
        var order = Array(reviews.indices)
        var rng = RandomGenerator(seed: seed)
        rng.shuffle(&order)
        let n = Int((fraction * Double(reviews.count)).rounded())
        return (ReviewCorpus(reviews: order.dropFirst(n).map { reviews[$0] }), ReviewCorpus(reviews: order.prefix(n).map { reviews[$0] }))
    }

    /// A synthetic corpus whose words carry the label: neutral filler words plus sentiment
    /// words, each review leaning to its label but with words of the other side too (so a
    /// model must weigh evidence across the whole review).
    public static func synthetic(count: Int, seed: UInt64) -> ReviewCorpus {
        let positive = ["great", "excellent", "wonderful", "superb", "moving", "brilliant", "loved", "beautiful", "funny", "masterpiece"]
        let negative = ["awful", "boring", "terrible", "waste", "dull", "worst", "poor", "hated", "mess", "predictable"]
        let filler = (0..<1500).map { i -> String in
            let syllables = ["ka", "lo", "mi", "ren", "to", "sa", "vi", "del", "mor", "pa", "ne", "ru"]
            return syllables[i % 12] + syllables[(i / 12) % 12] + (i >= 144 ? syllables[(i / 144) % 12] : "")
        }
        var rng = RandomGenerator(seed: seed)
        var reviews: [Review] = []
        for _ in 0..<count {
            let label: Float = rng.uniform() < 0.5 ? 0 : 1
            let length = 30 + rng.int(below: 370)
            var words: [String] = []
            for _ in 0..<length {
                let u = rng.uniform()
                if u < 0.08 {
                    let own = rng.uniform() < 0.75  // 75% of sentiment words agree with the label
                    let side = (label == 1) == own ? positive : negative
                    words.append(side[rng.int(below: side.count)])
                } else {
                    // Zipf-like filler: low ranks far more frequent.
                    let r = Int(Double(filler.count) * pow(Double(rng.uniform()), 3))
                    words.append(filler[min(r, filler.count - 1)])
                }
            }
            reviews.append(Review(label: label, text: words.joined(separator: " ") + (rng.uniform() < 0.3 ? "<br /><br />The end." : ".")))
        }
        return ReviewCorpus(reviews: reviews)
    }
}

/// Keras' `text_to_word_sequence` after removing HTML line breaks: lowercase, punctuation
/// (Keras' default filters, which keep the apostrophe) becomes a space, split on whitespace.
public enum Tokenizer {
    static let filters = Set("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r".unicodeScalars)

    public static func tokens(_ text: String) -> [String] {
        var s = text
        for br in ["<br />", "<br/>", "<br>", "<BR />", "<BR>"] { s = s.replacingOccurrences(of: br, with: " ") }
        var out = "", scalars = String.UnicodeScalarView()
        for c in s.lowercased().unicodeScalars { scalars.append(filters.contains(c) ? " " : c) }
        out.unicodeScalars = scalars
        return out.split(whereSeparator: { $0 == " " || $0.isWhitespace }).map(String.init)
    }
}

/// Word ids with Keras' imdb convention: 0 padding, 1 start, 2 out of vocabulary, and the
/// word of frequency rank r (1 = most frequent in train) gets id r + 3. Ids must stay below
/// `size`, so `size` = 2000 keeps the 1996 most frequent words.
public struct Vocabulary: Sendable {
    public static let pad: Int32 = 0, start: Int32 = 1, oov: Int32 = 2, firstWord: Int32 = 4
    public let size: Int
    public let ids: [String: Int32]

    /// Ranks words by train frequency (ties: first seen first, as Keras).
    public init(training texts: [[String]], size: Int) {
        precondition(size > Int(Self.firstWord), "vocabulary size must exceed \(Self.firstWord), got \(size)")
        self.size = size
        var counts: [String: Int] = [:], order: [String] = []
        for tokens in texts {
            for t in tokens {
                if counts[t] == nil { order.append(t) }
                counts[t, default: 0] += 1
            }
        }
        let firstSeen = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        let ranked = order.sorted { (counts[$0]!, firstSeen[$1]!) > (counts[$1]!, firstSeen[$0]!) }
        var ids: [String: Int32] = [:]
        for (i, w) in ranked.enumerated() where Int(Self.firstWord) + i < size { ids[w] = Self.firstWord + Int32(i) }
        self.ids = ids
    }

    /// start, then word ids (unknown words and ids >= size become `oov`). A text written as
    /// ids (all tokens non-negative integers) is used as those ids.
    public func encode(_ tokens: [String]) -> [Int32] {
        if !tokens.isEmpty, tokens.allSatisfy({ $0.allSatisfy(\.isNumber) }) {
            return tokens.map { Int32($0).map { $0 < size ? $0 : Self.oov } ?? Self.oov }
        }
        return [Self.start] + tokens.map { ids[$0] ?? Self.oov }
    }
}

/// Keras `pad_sequences`: cut to `maxlen` and fill with 0, at the front (`pre`, the default)
/// or the back (`post`).
public enum Padding: String, Sendable, CaseIterable, Codable {
    case pre, post

    public static func apply(_ seq: [Int32], maxlen: Int, padding: Padding, truncating: Padding) -> [Int32] {
        let cut = seq.count <= maxlen ? seq : (truncating == .pre ? Array(seq.suffix(maxlen)) : Array(seq.prefix(maxlen)))
        let fill = [Int32](repeating: Vocabulary.pad, count: maxlen - cut.count)
        return padding == .pre ? fill + cut : cut + fill
    }
}
