import Recur
import Foundation

/// Band-limited resampling: Kaiser-windowed sinc interpolation (32 zero crossings, beta 9.0)
/// with the cutoff at 95% of the lower Nyquist frequency, so downsampling does not alias.
/// Rational ratios (e.g. 8 kHz -> 16 kHz) use a precomputed filter per phase.
public enum Resampler {
    static let zeroCrossings = 32.0, beta = 9.0, rolloff = 0.95

    public static func resample(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        precondition(source > 0 && target > 0, "resample: sample rates must be positive, got \(source) -> \(target)")
        if source == target || x.isEmpty { return x }
        let outCount = Int((Double(x.count) * Double(target) / Double(source)).rounded(.up))
        let fc = min(1, Double(target) / Double(source)) * rolloff  // cutoff, in input-sample units
        let half = zeroCrossings / fc
        let g = gcd(source, target), phases = target / g, step = source / g
        let i0beta = besselI0(beta)
        func tap(_ d: Double) -> Double {  // d: distance in input samples
            let u = d / half
            guard abs(u) < 1 else { return 0 }
            let s = d == 0 ? 1 : sin(Double.pi * fc * d) / (Double.pi * fc * d)
            return fc * s * besselI0(beta * (1 - u * u).squareRoot()) / i0beta
        }
        let span = Int(half.rounded(.up))
        // One filter per phase when the ratio is rational with few phases.
        let table: [[Double]]? = phases <= 4096 ? (0..<phases).map { p in
            let frac = Double(p) / Double(phases)
            return (-span...(span + 1)).map { k in tap(frac - Double(k)) }
        } : nil
        var y = [Float](repeating: 0, count: outCount)
        x.withUnsafeBufferPointer { xs in
            for n in 0..<outCount {
                let num = n * step, base = num / phases, p = num % phases
                var acc = 0.0
                let lo = max(0, base - span), hi = min(xs.count - 1, base + span + 1)
                if lo <= hi {
                    if let table {
                        let f = table[p]
                        for k in lo...hi { acc += Double(xs[k]) * f[k - base + span] }
                    } else {
                        let t = Double(n) * Double(source) / Double(target)
                        for k in lo...hi { acc += Double(xs[k]) * tap(t - Double(k)) }
                    }
                }
                y[n] = Float(acc)
            }
        }
        return y
    }

    /// Modified Bessel function of the first kind, order 0 (power series).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0, k = 1.0
        let q = x * x / 4
        while term > 1e-16 * sum {
            term *= q / (k * k)
            sum += term
            k += 1
        }
        return sum
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

/// Zero-pads or truncates to exactly `length` samples (seed 000: clips become 1 s).
public func fitLength(_ x: [Float], _ length: Int) -> [Float] {
    x.count >= length ? Array(x.prefix(length)) : x + [Float](repeating: 0, count: length - x.count)
}
