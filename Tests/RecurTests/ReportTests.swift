import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses SVG as XML; returns polyline data-names and the title texts.
final class SVGInspector: NSObject, XMLParserDelegate {
    var seriesNames: [String] = []
    var texts: [String] = []
    var pointCounts: [Int] = []
    private var inText = false
    private var current = ""

    static func inspect(_ svg: String) -> SVGInspector? {
        let inspector = SVGInspector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = inspector
        return parser.parse() ? inspector : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "polyline" {
            seriesNames.append(attributes["data-name"] ?? "")
            pointCounts.append(attributes["points"]?.split(separator: " ").count ?? 0)
        }
        if name == "text" { inText = true; current = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(current); inText = false }
    }
}

@Suite struct ReportTests {
    @Test func lineChartIsWellFormedWithExpectedSeries() throws {
        let chart = LineChart(title: "Loss <train> & test", xLabel: "step", yLabel: "loss", series: [
            .init(name: "LSTM", points: [(0, 2.3), (100, 1.0), (200, 0.1)]),
            .init(name: "RNN \"tanh\"", points: [(0, 2.3), (100, 2.2), (200, Double.nan)], dashed: true),
        ])
        let svg = try #require(SVGInspector.inspect(chart.svg), "SVG is not well-formed XML")
        #expect(svg.seriesNames == ["LSTM", "RNN \"tanh\""])
        #expect(svg.pointCounts == [3, 2], "non-finite points are dropped")
        #expect(svg.texts.contains("Loss <train> & test"))
        #expect(svg.texts.contains("step") && svg.texts.contains("loss"))
        #expect(svg.texts.contains("LSTM"), "legend entry")
    }

    @Test func niceTicks() {
        #expect(mismatch(LineChart.ticks(0, 1).map(Float.init), [0, 0.2, 0.4, 0.6, 0.8, 1], rtol: 1e-6, atol: 1e-7) == nil)
        let t = LineChart.ticks(0, 10_000)
        #expect(t.first == 0 && t.last == 10_000 && t.count == 6)
        #expect(LineChart.ticks(-3, 7).contains(0))
        #expect(LineChart.label(0.75, step: 0.25) == "0.75" && LineChart.label(2, step: 0.5) == "2.0" && LineChart.label(400, step: 100) == "400")
    }

    @Test func jsonFormatting() {
        let j: JSON = .object([("a", 1), ("b", JSON(Float(0.001))), ("c", .string("q\"\n")), ("d", .array([true, .null])), ("e", .number(.nan))])
        #expect(j.serialized() == #"{"a":1,"b":0.001,"c":"q\"\n","d":[true,null],"e":null}"#)
        #expect(j.serialized(pretty: true).contains("\n  \"a\": 1"))
    }

    @Test func tables() {
        var t = MarkdownTable(header: ["N", "acc"], rightAligned: [1])
        t.append(["5", "100.0%"])
        #expect(t.markdown == "| N   |    acc |\n|-----|-------:|\n| 5   | 100.0% |\n")
        #expect(formatNumber(0.98765, decimals: 2) == "0.99")
        #expect(formatNumber(-0.004, decimals: 2) == "0.00")
        #expect(formatNumber(-1.5, decimals: 1) == "-1.5")
        #expect(formatNumber(nil) == "-")
    }
}
