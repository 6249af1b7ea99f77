import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import COpenBLAS
#endif

/// The one matrix-product entry point: single-precision GEMM on row-major matrices,
/// OpenBLAS on Linux and Accelerate on macOS.
public enum BLAS {
    /// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, all row-major.
    ///
    /// `lda`, `ldb`, `ldc` are row strides in floats, so a call can work on a block of a larger
    /// matrix (e.g. one direction's half of a [T*B, 2H] output). op(A) is A^T when `transA`
    /// (A is then stored [k, m]).
    @inlinable
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= max(1, transA ? m : k), "gemm: lda \(lda) < \(transA ? m : k) for op(A) [\(m), \(k)]")
        precondition(ldb >= max(1, transB ? k : n), "gemm: ldb \(ldb) < \(transB ? k : n) for op(B) [\(k), \(n)]")
        precondition(ldc >= max(1, n), "gemm: ldc \(ldc) < n \(n) for C [\(m), \(n)]")
        _ = defaultThreads
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS would leave C untouched; the mathematical answer is beta * C.
            for i in 0..<m { scale(c + i * ldc, count: n, by: beta) }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// Tensor form: C = alpha * op(A) op(B) + beta * C for 2-D tensors.
    public static func matmul(_ a: Tensor, transposed transA: Bool = false, _ b: Tensor,
                              transposed transB: Bool = false, into c: Tensor,
                              alpha: Float = 1, beta: Float = 0) {
        precondition(a.rank == 2 && b.rank == 2 && c.rank == 2,
                     "matmul needs 2-D tensors, got \(a.shape), \(b.shape), \(c.shape)")
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        precondition(k == kb && c.shape == [m, n],
                     "matmul: op(A) \(m)x\(k) times op(B) \(kb)x\(n) cannot go into C \(c.shape)")
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
             a: a.pointer, lda: a.shape[1], b: b.pointer, ldb: b.shape[1],
             beta: beta, c: c.pointer, ldc: n)
    }

    @inlinable
    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by beta: Float) {
        if beta == 0 { x.update(repeating: 0, count: count) } else { for i in 0..<count { x[i] *= beta } }
    }

    /// Recur's default is one BLAS thread unless OPENBLAS_NUM_THREADS says otherwise: the
    /// recurrent GEMMs are small, run faster on one thread here, and OpenBLAS's idle workers
    /// busy-wait on the other core. Set `threads` (or --threads) for large models.
    @usableFromInline static let defaultThreads: Void = {
        #if !canImport(Accelerate)
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { openblas_set_num_threads(1) }
        #endif
    }()

    #if !canImport(Accelerate)
    /// The OpenBLAS kernel family in use ("SkylakeX", "Haswell", ...), for reports. OpenBLAS
    /// picks it at load time from the CPU, or from OPENBLAS_CORETYPE when that is set; on
    /// AVX-512 CPUs its AVX-512 kernels (SkylakeX, Cooperlake) do about twice the SGEMM FLOP/s
    /// of its Haswell (AVX2) kernels.
    public static var coreName: String {
        _ = defaultThreads
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }
    #else
    public static var coreName: String { "Accelerate" }
    #endif

    /// Threads BLAS may use (OpenBLAS; Accelerate chooses for itself). Cheap to change
    /// between calls, so it can be chosen per problem size.
    public static var threads: Int {
        get {
            #if canImport(Accelerate)
            return 1
            #else
            return Int(openblas_get_num_threads())
            #endif
        }
        set {
            _ = defaultThreads
            #if !canImport(Accelerate)
            openblas_set_num_threads(Int32(max(1, newValue)))
            #endif
        }
    }
}
