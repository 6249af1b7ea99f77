extension RecurrentLayer {
    /// Fills one direction's weights by `scheme` (see `RecurrentInitialization`).
    static func initialize(_ scheme: RecurrentInitialization, cell: any CellKernel, hiddenSize H: Int,
                           wih: Parameter, whh: Parameter, bih: Parameter?, bhh: Parameter?,
                           rng: inout RandomGenerator) {
        let inSize = wih.shape[1], GH = wih.shape[0]
        switch scheme {
        case .pytorch:
            let k = 1 / Float(H).squareRoot()
            for p in [wih, whh, bih, bhh].compactMap({ $0 }) { rng.fillUniform(p.value, -k, k) }
        case .fanIn:
            let ki = 1 / Float(inSize).squareRoot(), kh = 1 / Float(H).squareRoot()
            rng.fillUniform(wih.value, -ki, ki)
            rng.fillUniform(whh.value, -kh, kh)
            bih?.value.zero()
            bhh?.value.zero()
        case .keras:
            let limit = (6 / Float(inSize + GH)).squareRoot()
            rng.fillUniform(wih.value, -limit, limit)
            fillOrthogonalColumns(whh.value, rng: &rng)
            bih?.value.zero()
            bhh?.value.zero()
            if cell is LSTMKernel, let b = bih {
                (b.value.pointer + H).update(repeating: 1, count: H)  // forget gate
            }
        }
    }

    /// Keras' `orthogonal` for a recurrent kernel [H, G*H], stored transposed as our [G*H, H]:
    /// the columns of w are orthonormal (QR of a Gaussian matrix, signs fixed so that R has a
    /// positive diagonal, which modified Gram–Schmidt gives directly).
    static func fillOrthogonalColumns(_ w: Tensor, rng: inout RandomGenerator) {
        let rows = w.shape[0], cols = w.shape[1]
        precondition(rows >= cols, "orthogonal init needs rows >= cols, got \(w.shape)")
        var a = (0..<(rows * cols)).map { _ in Double(rng.normal()) }
        for j in 0..<cols {
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<rows { dot += a[i * cols + j] * a[i * cols + k] }
                for i in 0..<rows { a[i * cols + j] -= dot * a[i * cols + k] }
            }
            var norm = 0.0
            for i in 0..<rows { norm += a[i * cols + j] * a[i * cols + j] }
            norm = norm.squareRoot()
            for i in 0..<rows { a[i * cols + j] /= norm }
        }
        let p = w.pointer
        for i in 0..<(rows * cols) { p[i] = Float(a[i]) }
    }
}
