/// Recur's version, printed by `recur --version`.
public let version = "0.1.0"
