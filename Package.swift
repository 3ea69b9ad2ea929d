// swift-tools-version: 6.2
import PackageDescription

// Same settings for every Swift target, as swift-log and swift-configuration do.
let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "GridBus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridbusd", targets: ["gridbusd"]),
        .executable(name: "gridctl", targets: ["gridctl"]),
        .executable(name: "grid-intake", targets: ["grid-intake"]),
        .executable(name: "grid-dispatcher", targets: ["grid-dispatcher"]),
        .executable(name: "grid-notifier", targets: ["grid-notifier"]),
        .executable(name: "grid-stats", targets: ["grid-stats"]),
        .library(name: "GridSchema", targets: ["GridSchema"]),
        .library(name: "GridBusClient", targets: ["GridBusClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(
            url: "https://github.com/apple/swift-configuration.git",
            from: "1.4.0",
            traits: [.defaults, "YAML", "CommandLineArguments"]
        ),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.5.0"),
        // Already in the graph through swift-configuration's YAML trait; used directly to find unknown keys.
        .package(url: "https://github.com/jpsim/Yams.git", "5.4.0"..<"7.0.0"),
    ],
    targets: [
        // MARK: System libraries
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // Blocks SIGINT/SIGTERM/SIGHUP before main (see TerminationSignals); spawns plugin processes.
        .target(name: "CProcessSetup"),

        // MARK: Libraries, one per part
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: settings),
        .target(name: "GridSchema", swiftSettings: settings),
        .target(name: "GridStore", dependencies: ["CSQLite"], swiftSettings: settings),
        .target(
            name: "GridConfiguration",
            dependencies: [
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                "CProcessSetup",
            ],
            swiftSettings: settings
        ),
        .target(name: "GridDistrict", dependencies: ["GridSchema", "GridConfiguration"], swiftSettings: settings),
        // The load generator of `gridctl load` and the end-to-end benchmark: reports and handlers over HTTP.
        .target(name: "GridLoad", dependencies: ["GridDistrict"], swiftSettings: settings),
        .target(
            name: "GridDispatch",
            dependencies: [
                "GridDistrict", "GridSchema", "GridBusClient", "GridStore", "GridConfiguration", "GridHTTP", "GridSecurity", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridSecurity",
            dependencies: [
                "ZeroMQ", "GridSchema", "GridConfiguration",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridPlugins",
            dependencies: [
                "ZeroMQ", "GridSchema", "GridConfiguration", "GridSecurity", "CProcessSetup",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridBusClient",
            dependencies: [
                "ZeroMQ", "GridSchema", "GridStore", "GridConfiguration", "GridSecurity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridHTTP",
            dependencies: [
                "GridSchema", "GridSecurity", "GridConfiguration",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridIntake",
            dependencies: [
                "GridBusClient", "GridDistrict", "GridSchema", "GridStore", "GridConfiguration", "GridHTTP", "GridSecurity", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridBusDaemon",
            dependencies: [
                "ZeroMQ", "GridSchema", "GridStore", "GridConfiguration", "GridSecurity", "GridPlugins",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),

        // MARK: Executables, one thin main each
        .executableTarget(
            name: "gridbusd",
            dependencies: [
                "GridBusDaemon", "GridConfiguration", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-intake",
            dependencies: [
                "GridIntake", "GridConfiguration", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridNotify",
            dependencies: [
                "GridDistrict", "GridSchema", "GridBusClient", "GridStore", "GridConfiguration", "GridHTTP", "GridSecurity", "GridPlugins", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridStats",
            dependencies: [
                "GridDistrict", "GridSchema", "GridBusClient", "GridStore", "GridConfiguration", "GridHTTP", "GridSecurity", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Dashboard")],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-stats",
            dependencies: [
                "GridStats", "GridConfiguration", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-notifier",
            dependencies: [
                "GridNotify", "GridConfiguration", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-dispatcher",
            dependencies: [
                "GridDispatch", "GridConfiguration", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gridctl",
            dependencies: [
                "GridBusClient", "GridSchema", "GridConfiguration", "GridSecurity", "GridDistrict", "GridLoad", "GridStore", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gridbench",
            dependencies: [
                "GridBusClient", "GridSecurity", "GridConfiguration", "GridDistrict", "GridDispatch", "GridStats", "GridStore", "GridLoad", "ZeroMQ", "GridSchema",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gridbus-probe",
            dependencies: [
                "GridBusClient", "GridSchema", "GridStore", "GridConfiguration", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        // libzmq's own XSUB/XPUB proxy, the benchmark baseline (C, so nothing of ours is in its way).
        .executableTarget(name: "zmq-proxy-baseline", linkerSettings: [.linkedLibrary("zmq")]),

        // MARK: Tests
        .target(
            name: "GridBusTestSupport",
            dependencies: [
                "GridBusDaemon", "GridBusClient", "GridSecurity", "GridStore", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/GridBusTestSupport",
            swiftSettings: settings
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"], swiftSettings: settings),
        .testTarget(name: "GridSchemaTests", dependencies: ["GridSchema"], resources: [], swiftSettings: settings),
        .testTarget(name: "GridStoreTests", dependencies: ["GridStore", "GridBusTestSupport"], swiftSettings: settings),
        .testTarget(name: "GridDistrictTests", dependencies: ["GridDistrict", "GridConfiguration", "GridBusTestSupport"], swiftSettings: settings),
        .testTarget(
            name: "GridIntakeTests",
            dependencies: ["GridIntake", "GridSchema", "GridBusClient", "GridBusTestSupport", "GridDistrict", "GridHTTP", "GridStore", "ZeroMQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridDispatchTests",
            dependencies: [
                "GridDispatch", "GridDistrict", "GridSchema", "GridBusClient", "GridBusTestSupport", "GridStore", "ZeroMQ", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridNotifyTests",
            dependencies: ["GridNotify", "GridDistrict", "GridSchema", "GridBusClient", "GridBusTestSupport", "GridConfiguration", "GridPlugins", "GridStore", "ZeroMQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridStatsTests",
            dependencies: ["GridStats", "GridDistrict", "GridSchema", "GridBusClient", "GridBusTestSupport", "GridStore", "ZeroMQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridSecurityTests",
            dependencies: [
                "GridSecurity", "GridPlugins", "GridConfiguration", "GridBusTestSupport", "ZeroMQ", "GridSchema",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridBusDaemonTests",
            dependencies: [
                "GridBusDaemon", "GridBusClient", "GridBusTestSupport", "GridConfiguration", "GridSecurity", "GridPlugins", "ZeroMQ", "GridSchema", "GridDistrict",
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridBusClientTests",
            dependencies: [
                "GridBusClient", "GridBusTestSupport", "GridStore", "ZeroMQ", "GridSchema",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        // The benchmark's arithmetic (stages, minutes, quantiles): the numbers in docs/benchmarks.md rest on it.
        .testTarget(name: "GridBenchTests", dependencies: ["gridbench"], swiftSettings: settings),
        // Runs the built executables (gridbusd, gridctl, gridbus-probe) as child processes.
        .testTarget(
            name: "IntegrationTests", dependencies: ["GridBusClient", "GridBusDaemon", "GridBusTestSupport", "ZeroMQ", "GridSchema", "GridStore"],
            swiftSettings: settings),
    ]
)
