import Recur

/// First and seasonal differencing of a series, and its inverse. With lag-1 differencing the
/// model sees z_t = y_t - y_{t-1}; with seasonal period P, z_t = y_t - y_{t-P}; with both,
/// z_t = (y_t - y_{t-1}) - (y_{t-P} - y_{t-P-1}). In every case z_t = y_t - carried(t), where
/// `carried` is the part of y_t known from the past: a forecast ẑ_t becomes
/// ŷ_t = ẑ_t + carried(t), and ẑ_t = 0 is the naive (or seasonal naive) forecast.
public struct Differencing: Sendable, Equatable {
    public let first: Bool
    /// The seasonal period in steps (12 for monthly data with a yearly cycle); nil: none.
    public let seasonalPeriod: Int?
    /// carried(t) = Σ coefficient · y[t - lag].
    public let terms: [Term]

    public struct Term: Sendable, Equatable {
        public let lag: Int
        public let coefficient: Double
    }

    public init(first: Bool, seasonalPeriod: Int? = nil) {
        precondition(seasonalPeriod.map { $0 >= 1 } ?? true, "seasonal period \(seasonalPeriod!) must be at least 1")
        self.first = first
        self.seasonalPeriod = seasonalPeriod
        // (1 - B)(1 - B^P) = 1 - B - B^P + B^(P+1); carried is what the product leaves besides y_t.
        switch (first, seasonalPeriod) {
        case (false, nil): terms = []
        case (true, nil): terms = [Term(lag: 1, coefficient: 1)]
        case (false, let p?): terms = [Term(lag: p, coefficient: 1)]
        case (true, let p?): terms = [Term(lag: 1, coefficient: 1), Term(lag: p, coefficient: 1), Term(lag: p + 1, coefficient: -1)]
        }
    }

    /// No differencing: the model sees the series itself.
    public static let none = Differencing(first: false)

    /// Values lost at the start: z_t exists for t >= order.
    public var order: Int { terms.map(\.lag).max() ?? 0 }

    /// The part of y[t] that the past determines; `y(i)` gives the series at i < t.
    @inlinable public func carried(at t: Int, _ y: (Int) -> Double) -> Double {
        terms.reduce(0) { $0 + $1.coefficient * y(t - $1.lag) }
    }

    /// z[t] for t in order..<y.count, stored at index t (the first `order` entries are 0).
    public func apply(_ y: [Double]) -> [Double] {
        (0..<y.count).map { t in t < order ? 0 : y[t] - carried(at: t) { y[$0] } }
    }

    /// The series from its first `order` values and the differences z[t], t >= order
    /// (as `apply` returns them): the inverse of `apply`.
    public func integrate(_ z: [Double], start: [Double]) -> [Double] {
        precondition(start.count == order, "integrate needs the first \(order) values, got \(start.count)")
        var y = start
        y.reserveCapacity(z.count)
        for t in order..<z.count { y.append(z[t] + carried(at: t) { y[$0] }) }
        return y
    }

    /// What a report calls it.
    public var description: String {
        switch (first, seasonalPeriod) {
        case (false, nil): return "none"
        case (true, nil): return "first differences"
        case (false, let p?): return "seasonal differences (period \(p))"
        case (true, let p?): return "first and seasonal differences (period \(p))"
        }
    }
}
