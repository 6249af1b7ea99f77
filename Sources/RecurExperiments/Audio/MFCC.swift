import Recur
import Foundation

/// MFCCs equal to `librosa.feature.mfcc(y=y, sr=sr, n_fft=2048, hop_length=512)` with
/// librosa's defaults (0.10/0.11): periodic Hann window; centred frames with zero padding of
/// n_fft/2 each side; power spectrum; 128 Slaney-scale mel bands with Slaney area
/// normalisation (weights rounded to float32, as librosa stores them); power_to_db with
/// ref 1, amin 1e-10, top_db 80 (over the whole clip); orthonormal DCT-II; first 20 kept.
/// For 16000 samples at 16 kHz: 32 frames x 20 coefficients. Computed in Double.
public struct MFCC: Sendable {
    public let sampleRate: Int, coefficients: Int, fftSize: Int, hop: Int, melBands: Int
    public let topDB: Double
    let window: [Double]
    /// [melBands][fftSize/2 + 1]
    let melFilters: [[Double]]
    /// [coefficients][melBands]
    let dct: [[Double]]
    let fft: FFT

    public init(sampleRate: Int = 16000, coefficients: Int = 20, fftSize: Int = 2048, hop: Int = 512, melBands: Int = 128, topDB: Double = 80) {
        precondition(fftSize >= 2 && fftSize & (fftSize - 1) == 0, "MFCC: fftSize must be a power of two, got \(fftSize)")
        precondition(coefficients >= 1 && coefficients <= melBands, "MFCC: coefficients \(coefficients) must be in 1...melBands \(melBands)")
        precondition(hop >= 1 && melBands >= 1 && sampleRate >= 1, "MFCC: hop, melBands and sampleRate must be positive")
        self.sampleRate = sampleRate
        self.coefficients = coefficients
        self.fftSize = fftSize
        self.hop = hop
        self.melBands = melBands
        self.topDB = topDB
        window = (0..<fftSize).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(fftSize)) }  // periodic
        melFilters = Self.slaneyMelFilters(sampleRate: Double(sampleRate), fftSize: fftSize, bands: melBands)
        dct = (0..<coefficients).map { k in
            (0..<melBands).map { m in
                (k == 0 ? (1 / Double(melBands)).squareRoot() : (2 / Double(melBands)).squareRoot())
                    * cos(Double.pi * Double(k) * (2 * Double(m) + 1) / (2 * Double(melBands)))
            }
        }
        fft = FFT(size: fftSize)
    }

    /// Frames for a signal of n samples: 1 + n / hop (centred).
    public func frameCount(samples n: Int) -> Int { 1 + n / hop }

    /// y -> [frames][coefficients], time-major.
    public func callAsFunction(_ y: [Float]) -> [[Float]] {
        let pad = fftSize / 2, frames = frameCount(samples: y.count), bins = fftSize / 2 + 1
        var padded = [Double](repeating: 0, count: y.count + 2 * pad)
        for i in 0..<y.count { padded[pad + i] = Double(y[i]) }
        var mel = [[Double]](repeating: [Double](repeating: 0, count: melBands), count: frames)
        var re = [Double](repeating: 0, count: fftSize), im = [Double](repeating: 0, count: fftSize)
        var power = [Double](repeating: 0, count: bins)
        for f in 0..<frames {
            for i in 0..<fftSize { re[i] = padded[f * hop + i] * window[i]; im[i] = 0 }
            fft.transform(&re, &im)
            for k in 0..<bins { power[k] = re[k] * re[k] + im[k] * im[k] }
            for m in 0..<melBands {
                var s = 0.0
                let w = melFilters[m]
                for k in 0..<bins where w[k] != 0 { s += w[k] * power[k] }
                mel[f][m] = 10 * log10(max(1e-10, s))
            }
        }
        let peak = mel.map { $0.max() ?? -Double.infinity }.max() ?? 0
        let floor = peak - topDB
        return mel.map { row in
            let clipped = row.map { max($0, floor) }
            return dct.map { basis in Float(zip(basis, clipped).reduce(0) { $0 + $1.0 * $1.1 }) }
        }
    }

    static func hzToMel(_ f: Double) -> Double {
        let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, logstep = log(6.4) / 27
        return f >= minLogHz ? minLogMel + log(f / minLogHz) / logstep : f / fsp
    }

    static func melToHz(_ m: Double) -> Double {
        let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, logstep = log(6.4) / 27
        return m >= minLogMel ? minLogHz * exp(logstep * (m - minLogMel)) : fsp * m
    }

    /// librosa.filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False, norm='slaney').
    static func slaneyMelFilters(sampleRate: Double, fftSize: Int, bands: Int) -> [[Double]] {
        let bins = fftSize / 2 + 1
        let fftFreqs = (0..<bins).map { Double($0) * sampleRate / Double(fftSize) }
        let lo = hzToMel(0), hi = hzToMel(sampleRate / 2)
        let melF = (0..<(bands + 2)).map { melToHz(lo + (hi - lo) * Double($0) / Double(bands + 1)) }
        return (0..<bands).map { i in
            let enorm = 2 / (melF[i + 2] - melF[i])
            return fftFreqs.map { f in
                let lower = (f - melF[i]) / (melF[i + 1] - melF[i]), upper = (melF[i + 2] - f) / (melF[i + 2] - melF[i + 1])
                return Double(Float(max(0, min(lower, upper)) * enorm))  // librosa keeps float32 weights
            }
        }
    }
}

/// In-place radix-2 complex FFT in Double, with precomputed twiddles and bit reversal.
struct FFT: Sendable {
    let size: Int
    let cosTable: [Double], sinTable: [Double], reversed: [Int]

    init(size: Int) {
        self.size = size
        cosTable = (0..<(size / 2)).map { cos(-2 * Double.pi * Double($0) / Double(size)) }
        sinTable = (0..<(size / 2)).map { sin(-2 * Double.pi * Double($0) / Double(size)) }
        let bits = size.trailingZeroBitCount
        reversed = (0..<size).map { i in
            var r = 0, v = i
            for _ in 0..<bits { r = r << 1 | (v & 1); v >>= 1 }
            return r
        }
    }

    func transform(_ re: inout [Double], _ im: inout [Double]) {
        for i in 0..<size where reversed[i] > i { re.swapAt(i, reversed[i]); im.swapAt(i, reversed[i]) }
        var len = 2
        while len <= size {
            let halfLen = len / 2, stride = size / len
            var start = 0
            while start < size {
                for j in 0..<halfLen {
                    let wr = cosTable[j * stride], wi = sinTable[j * stride]
                    let a = start + j, b = a + halfLen
                    let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                }
                start += len
            }
            len *= 2
        }
    }
}
