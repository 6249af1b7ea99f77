/// Optimizers a command line or config can name, with PyTorch's defaults for the rest.
public enum OptimizerKind: String, Sendable, CaseIterable, Codable {
    case adam, sgd, rmsprop

    public func make(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) -> any Optimizer {
        switch self {
        case .adam: return Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .sgd: return SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        case .rmsprop: return RMSprop(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, momentum: momentum)
        }
    }
}
