// The canonical configurations (BenchmarkConfig.all: P-, S-, L-, I- and T-) as
// package-benchmark benchmarks, each at 1 and 2 threads. One iteration is one training
// step (forward + loss + backward + optimizer step) or, for the -infer configs, one forward.
//
//   RECUR_BENCHMARKS=1 swift package --allow-writing-to-package-directory benchmark --target RecurBenchmarks
//   RECUR_BENCHMARKS=1 swift package benchmark --target RecurBenchmarks --filter "P-LSTM.*"
//
// `recur bench` times the same configs from the command line; Scripts/compare_torch.py runs
// them beside PyTorch.
import Benchmark
import Recur
import RecurExperiments

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 3,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 1000
    )
    for threads in [1, 2] {
        for config in BenchmarkConfig.all {
            Benchmark("\(config.name) \(threads)t") { (benchmark: Benchmark, step: () -> Void) in
                for _ in benchmark.scaledIterations { step() }
            } setup: {
                BLAS.threads = threads
                return config.makeStep()
            }
        }
    }
}
