import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the canonical configurations (ms per training step) and this machine's SGEMM peak.",
        discussion: "Configs: " + BenchmarkConfig.all.map(\.name).joined(separator: ", ")
            + ". Each step is forward + loss + backward + optimizer step on fixed random data (-infer: forward only). "
            + "Scripts/compare_torch.py runs the same configurations in PyTorch alongside."
    )

    @Option(help: "Comma-separated configs, or 'all'.") var config: String = "all"
    @Option(help: "Threads (see --threads of the training commands).") var threads: Int = 1
    @Option(help: "Seconds to time each config (after warm-up).") var seconds: Double = 2
    @Flag(help: "Print exactly one JSON object on stdout.") var json = false

    func validate() throws {
        try OptionLimits.check(self)
        _ = try selected()
    }

    func selected() throws -> [BenchmarkConfig] {
        if config == "all" { return BenchmarkConfig.all }
        let names = BenchmarkConfig.all.map(\.name)
        return try parseList(config, option: "--config", expected: "names from \(names.joined(separator: ", ")) or 'all'") { n in
            BenchmarkConfig.all.first { $0.name == n }
        }
    }

    func run() throws {
        BLAS.threads = threads
        let peak = BenchmarkConfig.sgemmPeak()
        var table = MarkdownTable(header: ["config", "ms/step", "items/s", "GFLOP/s", "% of SGEMM peak"], rightAligned: [1, 2, 3, 4])
        var rows: [JSON] = []
        for c in try selected() {
            if !json { FileHandle.standardError.write(Data("timing \(c.name)...\n".utf8)) }
            let m = c.measure(minSeconds: seconds)
            table.append([c.name, formatNumber(m.msPerStep, decimals: 2), formatNumber(m.itemsPerSecond, decimals: 0) + " " + c.itemUnit,
                          formatNumber(m.gflops, decimals: 1), formatNumber(100 * m.gflops / peak, decimals: 1)])
            rows.append(.object([("config", .string(c.name)), ("ms_per_step", .number(m.msPerStep)),
                                 (c.itemUnit == "tokens" ? "tokens_per_second" : "sequences_per_second", .number(m.itemsPerSecond)),
                                 ("gflops", .number(m.gflops)), ("percent_of_sgemm_peak", .number(100 * m.gflops / peak)), ("steps_timed", JSON(m.steps))]))
        }
        if json {
            print(JSON.object([("threads", JSON(threads)), ("blas_core", .string(BLAS.coreName)), ("sgemm_gflops", .number(peak)),
                               ("configs", .array(rows))]).serialized())
        } else {
            print("SGEMM 1024^3 peak: \(formatNumber(peak, decimals: 1)) GFLOP/s at \(threads) thread(s), OpenBLAS core \(BLAS.coreName)\n")
            print(table.markdown, terminator: "")
        }
    }
}
