extension RecurrentInitialization {
    /// Fills one layer-direction's parameters (in the cell's order, which fixes the order of
    /// the random draws) by this scheme and each parameter's role. H: the cell's hidden size.
    func initialize(_ parameters: [(spec: CellParameter, parameter: Parameter)], hiddenSize H: Int,
                    identityScale: Float, rng: inout RandomGenerator) {
        let k = 1 / Float(H).squareRoot()
        for (spec, p) in parameters {
            let v = p.value, shape = spec.shape
            func glorot(_ fanIn: Int, _ fanOut: Int) {
                let limit = (6 / Float(fanIn + fanOut)).squareRoot()
                rng.fillUniform(v, -limit, limit)
            }
            switch (spec.role, self) {
            case (.gain, _): v.fill(1)
            case (.shift, _): v.zero()
            case (_, .pytorch): rng.fillUniform(v, -k, k)
            case (.recurrentWeight, .orthogonal): Self.fillOrthogonalColumns(v, rng: &rng)
            case (_, .orthogonal): rng.fillUniform(v, -k, k)
            case (.inputWeight, .fanIn), (.recurrentWeight, .fanIn), (.weight, .fanIn):
                let bound = 1 / Float(shape[1]).squareRoot()
                rng.fillUniform(v, -bound, bound)
            case (.inputWeight, .keras), (.weight, .keras): glorot(shape[1], shape[0])
            case (.recurrentWeight, .keras):
                if shape[0] >= shape[1] { Self.fillOrthogonalColumns(v, rng: &rng) } else { glorot(shape[1], shape[0]) }
            case (.diagonal, .keras): glorot(H, H)
            case (.inputWeight, .identity): rng.fillNormal(v, mean: 0, std: 0.001)
            case (.recurrentWeight, .identity), (.weight, .identity): Self.fillIdentityBlocks(v, scale: identityScale)
            case (.bias, _), (.diagonal, _): v.zero()
            }
            if self == .keras, let ones = spec.kerasOnes { (v.pointer + ones.lowerBound).update(repeating: 1, count: ones.count) }
        }
    }

    /// Each [n, n] block of rows of w [G*n, m] (and the rectangular one of a [P, H]) gets
    /// `scale` on its diagonal, zeros elsewhere.
    static func fillIdentityBlocks(_ w: Tensor, scale: Float) {
        let rows = w.shape[0], cols = w.shape[1], p = w.pointer
        w.zero()
        let block = min(rows, cols)
        for r in 0..<rows { p[r * cols + r % block] = scale }
    }

    /// Keras' `orthogonal` for a recurrent kernel [H, G*H], stored transposed as our [G*H, H]
    /// (and `nn.init.orthogonal_` on PyTorch's `weight_hh`): the columns of w are orthonormal
    /// (QR of a Gaussian matrix, signs fixed so that R has a positive diagonal, which modified
    /// Gram–Schmidt gives directly).
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
