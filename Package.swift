// swift-tools-version:6.1
import PackageDescription

// Imports point one way: CLibPQ → Postgres → UnwindStore → UnwindEngine → (UnwindServer) → unwind (CLI).
// UnwindCore is pure logic (definitions, state machine, retry policy) with no database and no threads.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "unwind",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "unwind", targets: ["unwind"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "UnwindCore", targets: ["UnwindCore"]),
        .library(name: "UnwindStore", targets: ["UnwindStore"]),
        .library(name: "HuaweiCloudSigning", targets: ["HuaweiCloudSigning"]),
        .library(name: "CloudSimulator", targets: ["CloudSimulator"]),
        .library(name: "HuaweiCloud", targets: ["HuaweiCloud"]),
        .executable(name: "unwind-cloudsim", targets: ["unwind-cloudsim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // For the cloud client's trusted CAs (UNWIND_CLOUD_CA_FILE); already built as AsyncHTTPClient's dependency.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Latency percentiles for `unwind bench` (issue 8).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "UnwindCore",
            dependencies: [
                "JSONLexing",
                .product(name: "Yams", package: "Yams"),
                // SHA-256 for the definition content hash; Foundation on Linux has no digest API.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "UnwindStore",
            dependencies: [
                "Postgres",
                "UnwindCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedMigrations"]
        ),
        // The metric catalogue (names, labels, help texts) and the JSON log format. Only swift-metrics and
        // swift-log, so the engine and the cloud client can both report through it; the Prometheus exporter
        // and the HTTP endpoints live in the executable.
        .target(
            name: "UnwindObservability",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "UnwindEngine",
            dependencies: [
                "Postgres",
                "UnwindCore",
                "UnwindStore",
                "UnwindObservability",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `unwind serve`: JSON API, dashboard, health and readiness on Hummingbird. Knows no cloud and no CLI: the
        // executable hands it the store, the action registry and (optionally) a metrics renderer.
        .target(
            name: "UnwindServer",
            dependencies: [
                "Postgres",
                "UnwindCore",
                "UnwindStore",
                "UnwindEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SecMasterTeardown",
            dependencies: [
                "UnwindCore",
                "UnwindEngine",
                "UnwindObservability",
                "HuaweiCloud",
                "HuaweiCloudSigning",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // posix_spawn for the tools that supervise child processes (no Foundation `Process`).
        .target(name: "ProcessSpawning", swiftSettings: swiftSettings),
        .target(
            name: "LocalPostgres",
            dependencies: [
                "Postgres",
                "ProcessSpawning",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `unwind bench` (issue 8): measures the engine through its public API and real worker processes.
        .target(
            name: "UnwindBench",
            dependencies: [
                "Postgres",
                "ProcessSpawning",
                "UnwindCore",
                "UnwindStore",
                "UnwindEngine",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "unwind",
            dependencies: [
                "UnwindBench",
                "Postgres",
                "UnwindCore",
                "UnwindStore",
                "UnwindEngine",
                "SecMasterTeardown",
                "HuaweiCloud",
                "LocalPostgres",
                "UnwindObservability",
                "UnwindServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Build-time: db/migrations/*.sql is the one place the schema lives; this plugin embeds those files
        // into UnwindStore so an installed binary never has to find them on disk.
        .executableTarget(name: "EmbedMigrationsTool", swiftSettings: swiftSettings),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["EmbedMigrationsTool"]
        ),

        // Local Huawei Cloud simulator (issue 4). The signer is pure so the real cloud client can reuse it;
        // the simulator keeps its domain logic free of HTTP so it can be unit-tested without sockets.
        // The byte-level JSON grammar shared by the engine's and the simulator's parsers (no dependencies).
        .target(name: "JSONLexing", swiftSettings: swiftSettings),
        .target(
            name: "HuaweiCloudSigning",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CloudSimulator",
            dependencies: [
                "HuaweiCloudSigning",
                "JSONLexing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Real Huawei Cloud HTTP client (issue 5). Reuses the signer; never retries by itself (the saga engine does).
        .target(
            name: "HuaweiCloud",
            dependencies: [
                "HuaweiCloudSigning",
                "UnwindObservability",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Chaos run (issue 7): drives real processes and checks the invariants; run by scripts/test.sh.
        .executableTarget(
            name: "unwind-chaos",
            dependencies: [
                "Postgres",
                "LocalPostgres",
                "ProcessSpawning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "unwind-cloudsim",
            dependencies: [
                "CloudSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "UnwindTesting",
            dependencies: ["Postgres", "UnwindStore", "UnwindCore", "UnwindEngine", .product(name: "Logging", package: "swift-log")],
            path: "Tests/UnwindTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnwindCoreTests",
            dependencies: ["UnwindCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "UnwindTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnwindStoreTests",
            dependencies: ["UnwindStore", "UnwindTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnwindEngineTests",
            dependencies: ["UnwindEngine", "UnwindStore", "UnwindCore", "UnwindTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SecMasterTeardownTests",
            dependencies: [
                "SecMasterTeardown", "UnwindEngine", "UnwindStore", "UnwindCore", "UnwindTesting", "CloudSimulator", "HuaweiCloud",
                "UnwindObservability", .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["UnwindTesting"],
            swiftSettings: swiftSettings
        ),
        // deploy/: every YAML parses and has the structure operators rely on, the systemd units pass
        // `systemd-analyze verify`, the Dockerfile has the shape the docs promise, no secret in the examples.
        .testTarget(
            name: "DeployTests",
            dependencies: [
                "UnwindTesting",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Postgres",
                "UnwindServer",
                "UnwindEngine",
                "UnwindStore",
                "UnwindCore",
                "UnwindTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The browser driver is a Python script run by the tests (found through #filePath).
            exclude: ["browser"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "UnwindObservability", "UnwindEngine", "UnwindStore", "UnwindCore", "Postgres", "UnwindTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchTests",
            dependencies: ["UnwindBench", "UnwindTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HuaweiCloudSigningTests",
            dependencies: ["HuaweiCloudSigning"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HuaweiCloudTests",
            dependencies: [
                "HuaweiCloud",
                "HuaweiCloudSigning",
                "CloudSimulator",
                "ProcessSpawning",
                "UnwindObservability",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Fixtures are read through #filePath (no bundle needed); the folder is excluded from sources.
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CloudSimulatorTests",
            dependencies: [
                "CloudSimulator",
                "HuaweiCloudSigning",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
