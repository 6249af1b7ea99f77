import CRecurKernels

/// The floating-point mode of the calling thread.
public enum FloatingPointEnvironment {
    /// Subnormal floats (below 1.2e-38) flushed to zero, as inputs and results (x86 FTZ and
    /// DAZ, arm64 FZ), on the calling thread only: with one BLAS thread that is all of a
    /// run's arithmetic. Gradients that vanish over long sequences fall into that range, where
    /// x86 arithmetic takes microcode assists and a step can run many times slower. Off by
    /// default (PyTorch's default too); on, results differ from PyTorch's in those tiny values.
    /// Returns the previous setting.
    @discardableResult
    public static func flushSubnormals(_ on: Bool) -> Bool { recur_flush_subnormals(on ? 1 : 0) != 0 }
}
