import Recur
import Foundation

/// Mono audio decoded from a RIFF/WAVE file: samples in [-1, 1].
///
/// Reads PCM 8 (unsigned), 16, 24 and 32-bit, IEEE float 32 and 64, and
/// WAVE_FORMAT_EXTENSIBLE wrapping PCM or float; any number of channels, averaged to mono;
/// other chunks (LIST, fact, ...) are skipped. Every header field is checked against the
/// file's real size before anything is allocated, and each problem is a `RecurError` naming
/// the file.
public struct WAVFile: Sendable {
    public let sampleRate: Int
    public let channels: Int
    public let bitsPerSample: Int
    public let isFloat: Bool
    public let samples: [Float]

    public var duration: Double { Double(samples.count) / Double(sampleRate) }

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecurError("\(path): cannot read the WAV file", fix: "check the path and permissions")
        }
        try self.init(data: data, source: path)
    }

    public init(data: Data, source: String = "<wav>") throws {
        func fail(_ problem: String, _ fix: String = "re-export the file as a PCM or float WAV") -> RecurError {
            RecurError("\(source): \(problem)", fix: fix)
        }
        let bytes = [UInt8](data)
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        guard bytes.count >= 12 else { throw fail("is \(bytes.count) bytes, too short for a WAV header") }
        guard bytes[0..<4] == [0x52, 0x49, 0x46, 0x46] /* RIFF */, bytes[8..<12] == [0x57, 0x41, 0x56, 0x45] /* WAVE */ else {
            throw fail("is not a RIFF/WAVE file (wrong magic bytes)", "give a .wav file")
        }
        var offset = 12
        var format: (code: Int, channels: Int, rate: Int, blockAlign: Int, bits: Int)? = nil
        var dataRange: Range<Int>? = nil
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self), size = u32(offset + 4)
            let body = offset + 8
            guard size <= bytes.count - body else {
                if id == "data" { throw fail("is truncated: the data chunk declares \(size) bytes but \(bytes.count - body) remain") }
                throw fail("is truncated: chunk '\(id)' declares \(size) bytes but \(bytes.count - body) remain")
            }
            if id == "fmt " {
                guard size >= 16 else { throw fail("has a fmt chunk of \(size) bytes, shorter than 16") }
                var code = u16(body)
                let channels = u16(body + 2), rate = u32(body + 4), blockAlign = u16(body + 12), bits = u16(body + 14)
                if code == 0xFFFE {  // WAVE_FORMAT_EXTENSIBLE: the real format is in the sub-format GUID
                    guard size >= 40 else { throw fail("has an extensible fmt chunk of \(size) bytes, shorter than 40") }
                    code = u16(body + 24)
                }
                format = (code, channels, rate, blockAlign, bits)
            } else if id == "data" {
                dataRange = body..<(body + size)
            }
            offset = body + size + (size & 1)  // chunks are padded to even sizes
        }
        guard let f = format else { throw fail("has no fmt chunk") }
        guard let range = dataRange else { throw fail("has no data chunk") }
        guard f.channels >= 1 else { throw fail("declares 0 channels") }
        guard f.channels <= 256 else { throw fail("declares \(f.channels) channels, more than any real recording") }
        guard f.rate >= 1000 && f.rate <= 768_000 else {
            throw fail("declares a sample rate of \(f.rate) Hz, outside what audio recordings use (1,000 to 768,000 Hz)")
        }
        let float: Bool
        switch (f.code, f.bits) {
        case (1, 8), (1, 16), (1, 24), (1, 32): float = false
        case (3, 32), (3, 64): float = true
        case (1, _), (3, _): throw fail("uses \(f.bits)-bit samples, which this format does not define", "use 8, 16, 24 or 32-bit PCM or 32/64-bit float")
        default: throw fail("uses encoding \(f.code) (compressed or unknown); Recur reads PCM and IEEE float", "convert it to 16-bit PCM, e.g. `sox in.wav -b 16 -e signed out.wav`")
        }
        let width = f.bits / 8
        guard f.blockAlign == width * f.channels else {
            throw fail("has block align \(f.blockAlign), but \(f.channels) channels of \(f.bits) bits need \(width * f.channels)")
        }
        let frames = range.count / f.blockAlign
        guard frames >= 1 else { throw fail("holds no samples (an empty recording)") }
        var mono = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(f.channels)
        for i in 0..<frames {
            var sum: Float = 0
            for c in 0..<f.channels {
                let o = range.lowerBound + i * f.blockAlign + c * width
                switch (float, width) {
                case (false, 1): sum += (Float(bytes[o]) - 128) / 128
                case (false, 2): sum += Float(Int16(bitPattern: UInt16(u16(o)))) / 32768
                case (false, 3):
                    let v = Int32(bitPattern: UInt32(bytes[o]) << 8 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 24) >> 8
                    sum += Float(v) / 8_388_608
                case (false, _): sum += Float(Double(Int32(bitPattern: UInt32(u32(o)))) / 2_147_483_648)
                case (true, 4): sum += Float(bitPattern: UInt32(u32(o)))
                default:
                    let lo = UInt64(UInt32(u32(o))), hi = UInt64(UInt32(u32(o + 4)))
                    sum += Float(Double(bitPattern: lo | hi << 32))
                }
            }
            mono[i] = sum * scale
        }
        // Float data can hold NaN, infinities or values beyond Float's range: refuse them
        // rather than feed them to the features (found by Fuzz/run.sh).
        if let bad = mono.firstIndex(where: { !$0.isFinite }) {
            throw fail("has a sample at frame \(bad) that is not a finite number (NaN, infinity or beyond float32 range)",
                       "the float data is damaged; re-export the file")
        }
        sampleRate = f.rate
        channels = f.channels
        bitsPerSample = f.bits
        isFloat = float
        samples = mono
    }

    /// A WAV file's bytes (for tests and tools): PCM 8/16/24/32 or float 32/64, interleaved.
    /// `channels` holds one array per channel, values in [-1, 1].
    public static func encode(_ channels: [[Float]], sampleRate: Int, bits: Int, float: Bool = false, extensible: Bool = false) -> Data {
        let n = channels.first?.count ?? 0, width = bits / 8, ch = channels.count
        var d = Data()
        func put16(_ v: Int) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)]) }
        func put32(_ v: Int) { put16(v & 0xFFFF); put16(v >> 16 & 0xFFFF) }
        let fmtSize = extensible ? 40 : 16, dataSize = n * ch * width
        d.append(contentsOf: Array("RIFF".utf8)); put32(4 + 8 + fmtSize + 8 + dataSize); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); put32(fmtSize)
        put16(extensible ? 0xFFFE : (float ? 3 : 1)); put16(ch); put32(sampleRate); put32(sampleRate * ch * width); put16(ch * width); put16(bits)
        if extensible {
            put16(22); put16(bits); put32(0)
            put16(float ? 3 : 1); d.append(contentsOf: [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71])
        }
        d.append(contentsOf: Array("data".utf8)); put32(dataSize)
        for i in 0..<n {
            for c in 0..<ch {
                let x = max(-1, min(1, channels[c][i]))
                switch (float, bits) {
                case (true, 32): put32(Int(x.bitPattern))
                case (true, _):
                    let b = Double(x).bitPattern
                    put32(Int(b & 0xFFFF_FFFF)); put32(Int(b >> 32))
                case (false, 8): d.append(UInt8(max(0, min(255, Int((x * 128).rounded()) + 128))))
                case (false, 16): put16(Int(Int16(max(-32768, min(32767, (x * 32768).rounded())))) & 0xFFFF)
                case (false, 24):
                    let v = Int32(max(-8_388_608, min(8_388_607, (Double(x) * 8_388_608).rounded())))
                    d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF)])
                default:
                    let v = Int64(max(-2_147_483_648, min(2_147_483_647, (Double(x) * 2_147_483_648).rounded())))
                    put32(Int(UInt32(truncatingIfNeeded: v)))
                }
            }
        }
        return d
    }
}
