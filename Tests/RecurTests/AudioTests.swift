import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct WAVTests {
    static let tone = (0..<200).map { Float(0.8 * sin(Double($0) * 0.07)) }

    @Test(arguments: [(8, false, false), (16, false, false), (24, false, false), (32, false, false), (32, true, false),
                      (64, true, false), (16, false, true), (32, true, true)])
    func readsEveryEncoding(_ bits: Int, _ float: Bool, _ extensible: Bool) throws {
        let data = WAVFile.encode([Self.tone], sampleRate: 8000, bits: bits, float: float, extensible: extensible)
        let w = try WAVFile(data: data)
        #expect(w.sampleRate == 8000 && w.bitsPerSample == bits && w.isFloat == float && w.samples.count == 200)
        let tolerance: Float = bits == 8 ? 1.0 / 120 : (bits == 16 ? 1.0 / 30000 : 1e-6)
        #expect(mismatch(w.samples, Self.tone, rtol: 0, atol: tolerance) == nil, "\(bits)-bit \(float ? "float" : "PCM")")
    }

    @Test func mixesChannelsAndSkipsChunks() throws {
        let left = Self.tone, right = Self.tone.map { -0.5 * $0 }
        var data = WAVFile.encode([left, right, left], sampleRate: 22050, bits: 16)
        // Insert a LIST chunk (odd size, padded) before fmt: the reader must skip it.
        let list: [UInt8] = Array("LIST".utf8) + [5, 0, 0, 0] + Array("abcde".utf8) + [0]
        data.insert(contentsOf: list, at: 12)
        let w = try WAVFile(data: data)
        #expect(w.channels == 3 && w.samples.count == 200)
        let expected = zip(left, right).map { (2 * $0 + $1) / 3 }
        #expect(mismatch(w.samples, expected, rtol: 0, atol: 1e-4) == nil)
    }

    static func malformed() -> [(String, Data)] {
        let good = WAVFile.encode([tone], sampleRate: 8000, bits: 16)
        func patched(_ offset: Int, _ bytes: [UInt8]) -> Data {
            var d = good
            d.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            return d
        }
        return [
            ("empty", Data()),
            ("wrong magic", patched(0, Array("RIFX".utf8))),
            ("not WAVE", patched(8, Array("AVI ".utf8))),
            ("truncated data", good.prefix(good.count - 50)),
            ("truncated header", good.prefix(30)),
            ("zero channels", patched(22, [0, 0])),
            ("absurd channels", patched(22, [0xFF, 0xFF])),
            ("absurd rate", patched(24, [0xFF, 0xFF, 0xFF, 0xFF])),
            ("zero rate", patched(24, [0, 0, 0, 0])),
            ("compressed", patched(20, [0x55, 0])),  // MP3
            ("odd bits", patched(34, [12, 0])),
            ("bad block align", patched(32, [7, 0])),
            ("huge data size", patched(40, [0xFF, 0xFF, 0xFF, 0x7F])),
            ("no data chunk", good.prefix(36)),
        ]
    }

    @Test(arguments: 0..<14)
    func malformedFilesAreErrors(_ i: Int) {
        let (label, data) = Self.malformed()[i]
        do {
            _ = try WAVFile(data: data, source: "clip.wav")
            Issue.record("\(label): no error")
        } catch {
            #expect("\(error)".hasPrefix("clip.wav: "), "\(label): \(error)")
        }
    }

    /// Float data that is NaN, infinite, or too large for float32 is an error naming the
    /// frame (libFuzzer found a float64 file that decoded to -inf samples).
    @Test(arguments: [(64, 0x7FF8_0000_0000_0000 as UInt64), (64, 0x7E37_E43C_8800_759C), (32, 0x7F80_0000)])
    func nonFiniteFloatSamplesAreRejected(_ bits: Int, _ pattern: UInt64) {
        var bytes = [UInt8](WAVFile.encode([[0.5, 0.25, -0.5]], sampleRate: 8000, bits: bits, float: true))
        let width = bits / 8, frame1 = bytes.count - 2 * width
        for k in 0..<width { bytes[frame1 + k] = UInt8(truncatingIfNeeded: pattern >> (8 * UInt64(k))) }
        do {
            let w = try WAVFile(data: Data(bytes), source: "clip.wav")
            Issue.record("decoded \(w.samples)")
        } catch {
            #expect("\(error)".contains("clip.wav") && "\(error)".contains("frame 1"), "\(error)")
        }
    }

    /// Random corruption never crashes: every outcome is a value or a thrown error.
    @Test func fuzzedHeadersNeverCrash() {
        var rng = RandomGenerator(seed: 77)
        let good = WAVFile.encode([Self.tone], sampleRate: 8000, bits: 24)
        var rejected = 0, read = 0
        for _ in 0..<2000 {
            var bytes = [UInt8](rng.uniform() < 0.5 ? good : good.prefix(rng.int(below: good.count + 1)))
            for _ in 0..<rng.int(below: 6) where !bytes.isEmpty { bytes[rng.int(below: min(bytes.count, 60))] = UInt8(rng.int(below: 256)) }
            if let w = try? WAVFile(data: Data(bytes)) {
                read += 1
                #expect(w.samples.allSatisfy { $0.isFinite }, "what decodes is finite")
            } else { rejected += 1 }
        }
        #expect(rejected > 100 && read > 50, "both outcomes occur: \(rejected) rejected, \(read) read")
    }
}

@Suite struct ResamplerTests {
    func sine(_ f: Double, rate: Int, count: Int) -> [Float] { (0..<count).map { Float(sin(2 * Double.pi * f * Double($0) / Double(rate))) } }

    @Test(arguments: [(8000, 16000, 440.0), (44100, 16000, 1000.0), (16000, 8000, 1500.0), (22050, 16000, 3000.0)])
    func sineStaysASine(_ from: Int, _ to: Int, _ f: Double) {
        let y = Resampler.resample(sine(f, rate: from, count: from), from: from, to: to)
        #expect(y.count == to)
        let expected = sine(f, rate: to, count: to)
        // Away from the edges (where the filter runs off the signal) the error is tiny.
        let inner = (to / 20)..<(to - to / 20)
        let err = inner.map { abs(y[$0] - expected[$0]) }.max()!
        #expect(err < 2e-3, "max error \(err)")
    }

    @Test func downsamplingRejectsAliases() {
        // 10 kHz is above the 8 kHz Nyquist of 16 kHz: it must be filtered out, not folded to 6 kHz.
        let y = Resampler.resample(sine(10_000, rate: 44100, count: 44100), from: 44100, to: 16000)
        let rms = (Double(y[1000..<15000].reduce(0) { $0 + $1 * $1 }) / 14000).squareRoot()
        #expect(rms < 0.01, "alias RMS \(rms) (a pass-through would be 0.707)")
    }

    @Test func fitLengthPadsAndCuts() {
        #expect(fitLength([1, 2, 3], 5) == [1, 2, 3, 0, 0])
        #expect(fitLength([1, 2, 3], 2) == [1, 2])
    }
}

@Suite struct MFCCTests {
    static let names = fixtureNames(in: "librosa")

    @Test func fixturesArePresent() { #expect(Self.names.count == 6) }

    @Test(arguments: names)
    func matchesLibrosa(_ name: String) throws {
        let f = try Safetensors(contentsOf: fixtureURL("librosa/\(name).safetensors"))
        let m = f.metadata
        let mfcc = MFCC(sampleRate: Int(m["sr"]!)!, coefficients: Int(m["n_mfcc"]!)!, fftSize: Int(m["n_fft"]!)!,
                        hop: Int(m["hop_length"]!)!, melBands: Int(m["n_mels"]!)!)
        let y = f["y"]!.scalars
        let ours = mfcc(y)
        let reference = f["mfcc"]!  // [n_mfcc, frames]
        #expect(ours.count == reference.shape[1] && ours[0].count == reference.shape[0])
        var worst: Float = 0
        for t in 0..<ours.count { for k in 0..<ours[0].count { worst = max(worst, abs(ours[t][k] - reference[index: [k, t]])) } }
        #expect(worst < 1e-3, "\(name): max |difference| \(worst)")
    }

    @Test func oneSecondGives32Frames() {
        let x = MFCC()(fitLength([0.1, -0.2, 0.3], 16000))
        #expect(x.count == 32 && x[0].count == 20)
    }
}
