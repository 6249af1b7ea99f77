import Recur
import Foundation

/// A line chart written as standalone SVG: axes with "nice" ticks, axis labels, a title, a
/// legend, and markers on series with few points. No dependencies; renders in browsers and
/// with rsvg-convert.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Draw dashed (e.g. a reference or published curve).
        public var dashed: Bool
        /// Palette index (default: the series' position), so related series can share a colour.
        public var colorIndex: Int?
        /// Stroke width; wider lines drawn first stay visible where lines coincide.
        public var width: Double
        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, colorIndex: Int? = nil, width: Double = 2) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.colorIndex = colorIndex
            self.width = width
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    /// Fixed y range (e.g. 0...1 for accuracy); nil fits the data.
    public var yRange: ClosedRange<Double>? = nil
    /// A logarithmic y axis (ticks at powers of ten; points at or below 0 are left out), for
    /// quantities that span decades such as gradient norms.
    public var logY = false
    public var width = 720.0, height = 440.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series] = [], yRange: ClosedRange<Double>? = nil, logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
        self.logY = logY
    }

    /// Where a value sits on the y axis: itself, or its base-10 logarithm (nil: not drawable).
    func axisY(_ y: Double) -> Double? {
        guard y.isFinite else { return nil }
        if logY { return y > 0 ? log10(y) : nil }
        return y
    }

    /// Okabe–Ito colours: distinguishable with colour-vision deficiencies.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// Tick positions covering lo...hi with a 1-2-5 step, about `count` of them.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(max(count - 1, 1))
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(lo / step - 1e-9) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func label(_ v: Double, step: Double) -> String {
        if v != 0 && (abs(v) >= 1e6 || abs(v) < 1e-3) { return String(format: "%.1e", v) }
        // As many decimals as the step needs (0.25 -> 2), so every tick reads exactly.
        var decimals = 0
        while decimals < 6 && abs(step * pow(10, Double(decimals)) - (step * pow(10, Double(decimals))).rounded()) > 1e-6 { decimals += 1 }
        return formatNumber(v, decimals: decimals)
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    public var svg: String {
        // Points in axis units (y as its logarithm on a log axis).
        let drawn = series.map { $0.points.compactMap { p in p.x.isFinite ? axisY(p.y).map { (x: p.x, y: $0) } : nil } }
        let all = drawn.flatMap { $0 }
        var (x0, x1) = (all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1)
        var (y0, y1) = yRange.flatMap { r in axisY(r.lowerBound).flatMap { lo in axisY(r.upperBound).map { (lo, $0) } } }
            ?? (all.map(\.y).min() ?? 0, all.map(\.y).max() ?? 1)
        if x1 <= x0 { x0 -= 1; x1 += 1 }
        if y1 <= y0 { y0 -= abs(y0) * 0.1 + 1e-3; y1 += abs(y1) * 0.1 + 1e-3 }
        if yRange == nil { let pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad }
        let xt = Self.ticks(x0, x1)
        // A log axis ticks at whole decades (every second or more when they are many).
        let yt = logY ? stride(from: ceil(y0), through: floor(y1), by: max(1, ceil((floor(y1) - ceil(y0)) / 8))).map { $0 } : Self.ticks(y0, y1)
        // Few short names fit inside the plot; otherwise the legend goes below the axis label.
        let longest = series.map(\.name.count).max() ?? 0
        let legendBelow = series.count > 3 || longest > 24
        let legendHeight = legendBelow ? Double(series.count) * 20 + 12 : 0
        let totalHeight = height + legendHeight
        let left = 78.0, right = 24.0, top = 48.0, bottom = 58.0
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * ph }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(totalHeight))" viewBox="0 0 \(Int(width)) \(Int(totalHeight))" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="28" text-anchor="middle" font-size="17" font-weight="bold">\(Self.escape(title))</text>

        """
        let xStep = xt.count > 1 ? xt[1] - xt[0] : 1, yStep = yt.count > 1 ? yt[1] - yt[0] : 1
        for t in yt where t >= y0 - 1e-12 && t <= y1 + 1e-12 {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>\n"
            let text = logY ? (t == 0 ? "1" : "1e\(Int(t))") : Self.label(t, step: yStep)
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\" font-size=\"12\">\(text)</text>\n"
        }
        for t in xt where t >= x0 - 1e-12 && t <= x1 + 1e-12 {
            s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top + ph))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + ph + 5))\" stroke=\"#333\"/>\n"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(top + ph + 20))\" text-anchor=\"middle\" font-size=\"12\">\(Self.label(t, step: xStep))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"14\">\(Self.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(20 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">\(Self.escape(yLabel))</text>\n"
        for (i, ser) in series.enumerated() {
            let color = Self.palette[(ser.colorIndex ?? i) % Self.palette.count]
            let pts = drawn[i]
            guard !pts.isEmpty else { continue }
            let path = pts.map { "\(f(px($0.x))),\(f(py(min(max($0.y, y0), y1))))" }.joined(separator: " ")
            s += "<polyline class=\"series\" data-name=\"\(Self.escape(ser.name))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(f(ser.width))\"\(ser.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"/>\n"
            if pts.count <= 30 {
                for p in pts { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(min(max(p.y, y0), y1))))\" r=\"3.5\" fill=\"\(color)\"/>\n" }
            }
        }
        let rows = series.count
        let lw = Double(longest) * 7.2 + 44, lh = Double(rows) * 20 + 10
        let lx = legendBelow ? left : left + pw - lw - 8, ly = legendBelow ? height - 4 : top + 8
        if rows > 0 {
            s += "<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"\(f(lw))\" height=\"\(f(lh))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
            for (i, ser) in series.enumerated() {
                let y = ly + 15 + Double(i) * 20, color = Self.palette[(ser.colorIndex ?? i) % Self.palette.count]
                s += "<line x1=\"\(f(lx + 8))\" y1=\"\(f(y))\" x2=\"\(f(lx + 30))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2.5\"\(ser.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
                s += "<text x=\"\(f(lx + 36))\" y=\"\(f(y + 4))\" font-size=\"12\">\(Self.escape(ser.name))</text>\n"
            }
        }
        return s + "</svg>\n"
    }
}
