import CRecurKernels

/// Elementwise activation functions, vectorised (AVX2+FMA where the CPU has it).
///
/// `tanh` and `sigmoid` use polynomial kernels with max relative error about 2e-7.
/// `hardSigmoid` is Keras 2's: clip(0.2 x + 0.5, 0, 1).
public enum Activation: String, Sendable, CaseIterable, Codable {
    case tanh, relu, sigmoid, hardSigmoid = "hard_sigmoid", identity

    @usableFromInline var kernelCode: Int32 {
        switch self {
        case .tanh: return Int32(RECUR_ACT_TANH.rawValue)
        case .relu: return Int32(RECUR_ACT_RELU.rawValue)
        case .sigmoid: return Int32(RECUR_ACT_SIGMOID.rawValue)
        case .hardSigmoid: return Int32(RECUR_ACT_HARD_SIGMOID.rawValue)
        case .identity: return Int32(RECUR_ACT_IDENTITY.rawValue)
        }
    }

    /// y = f(x) over `count` floats; x and y may be the same buffer.
    public func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        recur_activate(kernelCode, x, y, count)
    }

    /// dx = dy * f'(x), where y = f(x) is given (derivatives are taken from the output).
    public func backward(output y: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>,
                         into dx: UnsafeMutablePointer<Float>, count: Int) {
        recur_activate_backward(kernelCode, y, dy, dx, count)
    }

    /// A new tensor f(x).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = Tensor(zeros: x.shape)
        apply(x.pointer, into: y.pointer, count: x.count)
        return y
    }
}

/// Vectorised math over buffers.
public enum VectorMath {
    /// y = exp(x), max relative error about 2e-7.
    public static func exp(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        recur_exp(x, y, count)
    }

    /// True when the AVX2+FMA build of the kernels is in use.
    public static var usesAVX2: Bool { recur_kernels_use_avx2() != 0 }

    /// y[i] += a * x[i].
    @inlinable
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a * x[i] }
    }

    /// out[j] += sum over rows of m[r, j], m: [rows, cols] with row stride ld.
    @inlinable
    public static func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                                     into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = m + r * ld
            for j in 0..<cols { out[j] += row[j] }
        }
    }

    /// Copies `v` (cols floats) into every row of m: [rows, cols] with row stride ld.
    @inlinable
    public static func broadcastRows(_ v: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int,
                                     into m: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { (m + r * ld).update(from: v, count: cols) }
    }

    /// Sum of squares, accumulated in Double.
    @inlinable
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var total = 0.0
        var i = 0
        // Blocks of 4096 in Float lanes, folded into Double to keep accuracy on long vectors.
        while i < count {
            let end = min(count, i + 4096)
            var j = i
            while j + 4 <= end {
                s0 += x[j] * x[j]; s1 += x[j + 1] * x[j + 1]
                s2 += x[j + 2] * x[j + 2]; s3 += x[j + 3] * x[j + 3]
                j += 4
            }
            while j < end { s0 += x[j] * x[j]; j += 1 }
            total += Double(s0) + Double(s1) + Double(s2) + Double(s3)
            s0 = 0; s1 = 0; s2 = 0; s3 = 0
            i = end
        }
        return total
    }
}
