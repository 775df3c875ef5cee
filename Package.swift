// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every target, as Hummingbird does: explicit `any`, and
/// imports that are visible only where they are written.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "walled-garden",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "walled-garden", targets: ["walled-garden"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .target(
            name: "GardenPolicy",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        .target(
            name: "GardenRewrite",
            dependencies: ["CLibXML2", "GardenPolicy"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GardenSites",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The audit trail: the queue and its writer, the log file, the per-client share,
        // the console summary, the desk's statistics, the live feed and the metrics.
        .target(
            name: "GardenAudit",
            dependencies: [
                "GardenPolicy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GardenServer",
            dependencies: [
                "GardenAudit",
                "GardenPolicy",
                "GardenRewrite",
                "GardenSites",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // The teaching tools: check's policy tests, explain's report, reveal, replay, probe, lint.
        .target(
            name: "GardenTeaching",
            dependencies: [
                "GardenPolicy",
                "GardenRewrite",
                "GardenServer",
                "GardenSites",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The teacher's desk (Hummingbird): sign-in and sessions, the live feed, Now,
        // Policy, Switches, Reveal, the trace, and /metrics.
        .target(
            name: "GardenDesk",
            dependencies: [
                "GardenAudit",
                "GardenPolicy",
                "GardenRewrite",
                "GardenServer",
                "GardenTeaching",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "walled-garden",
            dependencies: [
                "GardenAudit",
                "GardenDesk",
                "GardenServer",
                "GardenTeaching",
                "GardenPolicy",
                "GardenSites",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The fuzz targets (docs/operations.md, "Fuzzing and the soak test"): run by
        // Scripts/fuzz.sh under libFuzzer, and by FuzzRegressionTests over the committed corpus.
        .target(
            name: "GardenFuzzing",
            dependencies: [
                "GardenPolicy", "GardenRewrite", "GardenServer", "GardenSites",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            path: "Fuzz/GardenFuzzing",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "garden-fuzz",
            dependencies: ["GardenFuzzing"],
            path: "Fuzz/garden-fuzz",
            swiftSettings: swiftSettings
        ),
        // Run by hand: swift run -c release decide-benchmark (see Benchmarks/README.md).
        .executableTarget(
            name: "decide-benchmark",
            dependencies: ["GardenPolicy"],
            path: "Benchmarks/DecideBenchmark",
            swiftSettings: swiftSettings
        ),
        // Run by Benchmarks/static-vs-nginx.sh: SwiftNIO's floor (a canned answer per request).
        .executableTarget(
            name: "nio-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/NIOFloor",
            swiftSettings: swiftSettings
        ),
        // Run by hand: swift run -c release rewrite-benchmark (see Benchmarks/README.md).
        .executableTarget(
            name: "rewrite-benchmark",
            dependencies: ["GardenRewrite", "GardenPolicy"],
            path: "Benchmarks/RewriteBenchmark",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GardenPolicyTests",
            dependencies: ["GardenPolicy"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GardenRewriteTests",
            dependencies: ["GardenRewrite", "GardenPolicy"],
            exclude: ["Golden"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GardenSitesTests",
            dependencies: [
                "GardenSites",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GardenServerTests",
            dependencies: [
                "GardenAudit",
                "GardenDesk",
                "GardenServer",
                "GardenTeaching",
                "GardenFuzzing",
                "GardenPolicy",
                "GardenRewrite",
                "GardenSites",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
    ]
)
