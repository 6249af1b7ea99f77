// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Recur",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Recur", targets: ["Recur"]),
        .executable(name: "recur", targets: ["recur"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "recur",
            dependencies: [
                "Recur",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "RecurTests",
            dependencies: ["Recur", "recur"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
