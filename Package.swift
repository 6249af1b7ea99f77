// swift-tools-version: 6.1
import PackageDescription
import class Foundation.ProcessInfo

// The package-benchmark harness (Benchmarks/RecurBenchmarks) is only part of the package when
// RECUR_BENCHMARKS=1, so building and testing never fetch or compile it:
//   RECUR_BENCHMARKS=1 swift package benchmark --target RecurBenchmarks
let withBenchmarks = ProcessInfo.processInfo.environment["RECUR_BENCHMARKS"] == "1"

let package = Package(
    name: "Recur",
    platforms: [.macOS(.v13)],
    products: [
        // The engine: tensors, layers, cells, losses, optimizers, safetensors, the Trainer.
        .library(name: "Recur", targets: ["Recur"]),
        // The seeds' tasks on top of it: datasets, audio, experiments, reports.
        .library(name: "RecurExperiments", targets: ["RecurExperiments"]),
        .executable(name: "recur", targets: ["recur"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // OpenBLAS on Linux; on macOS `Recur` uses Accelerate instead.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),
        // Fused gate kernels and vectorised transcendentals. Built twice (AVX2+FMA and
        // portable) and chosen at run time, so no target needs -target-cpu flags.
        .target(name: "CRecurKernels"),
        .target(
            name: "Recur",
            dependencies: [
                "CRecurKernels",
                .target(name: "COpenBLAS", condition: .when(platforms: [.linux])),
            ]
        ),
        .target(name: "RecurExperiments", dependencies: ["Recur"]),
        .executableTarget(
            name: "recur",
            dependencies: [
                "Recur", "RecurExperiments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "RecurTests",
            dependencies: ["Recur", "RecurExperiments", "recur", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")]
        ),
        // The public API as a user sees it: imports Recur without @testable and defines the
        // cell of docs/writing-a-cell.md.
        .testTarget(name: "RecurPublicAPITests", dependencies: ["Recur"]),
    ],
    swiftLanguageModes: [.v6]
)

if withBenchmarks {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(.executableTarget(
        name: "RecurBenchmarks",
        dependencies: ["Recur", "RecurExperiments", .product(name: "Benchmark", package: "benchmark")],
        path: "Benchmarks/RecurBenchmarks",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ))
}
