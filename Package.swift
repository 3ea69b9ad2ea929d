// swift-tools-version: 6.2
import PackageDescription

// Same settings for every Swift target, as swift-log and swift-configuration do.
let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// The layers (docs/architecture.md): foundation (JSON, schema, store, ZeroMQ, configuration,
// security, the district), the runtime every worker runs on (GridBusClient, GridHTTP), the services
// (the daemon and the workers), the process set-up that only programs link (GridProgram), and one
// thin executable per binary. Nothing depends on a layer above its own.
let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdAuth = Target.Dependency.product(name: "HummingbirdAuth", package: "hummingbird-auth")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
let nio = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

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
        .library(name: "GridJSON", targets: ["GridJSON"]),
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
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Already in the graph through swift-configuration's YAML trait; used directly to find unknown keys.
        .package(url: "https://github.com/jpsim/Yams.git", "5.4.0"..<"7.0.0"),
    ],
    targets: [
        // MARK: C: system libraries and process primitives
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPostgres", providers: [.apt(["libpq-dev"])]),
        // Starts plugin processes so that none outlives gridbusd (the plugin supervisor's).
        .target(name: "CProcessSpawn"),
        // Blocks SIGINT/SIGTERM/SIGHUP before main: only GridProgram, which only executables link, uses it.
        .target(name: "CProgramSignals"),
        // systemd's notification protocol, both ends: programs report readiness and role, gridbusd hears its plugins.
        .target(name: "CServiceNotify"),

        // MARK: Foundation: JSON, schema, store, ZeroMQ, configuration, security, the district
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: settings),
        // The JSON coders every part uses: a pull reader, an object writer, Codable over a value tree.
        .target(name: "GridJSON", swiftSettings: settings),
        // The message schema: depends on nothing of ours but the JSON coders.
        .target(name: "GridSchema", dependencies: ["GridJSON"], swiftSettings: settings),
        .target(name: "GridStore", dependencies: ["CSQLite"], swiftSettings: settings),
        // PostgreSQL for the journal and the stores that outlive one machine: the URL (several hosts,
        // the writable one chosen), the password kept out of flags and logs, a connection for a thread.
        .target(
            name: "GridPostgres",
            dependencies: [
                "GridStore", "CPostgres", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                nio, log,
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridConfiguration",
            dependencies: ["GridJSON", .product(name: "Configuration", package: "swift-configuration"), .product(name: "Yams", package: "Yams")],
            swiftSettings: settings
        ),
        .target(name: "GridSecurity", dependencies: ["ZeroMQ", "GridSchema", "GridConfiguration", log, metrics], swiftSettings: settings),
        .target(name: "GridDistrict", dependencies: ["GridSchema", "GridJSON", "GridConfiguration"], swiftSettings: settings),
        // Prometheus metrics with their help text: swift-metrics over one registry per process, and
        // the text format for numbers read at scrape time.
        .target(name: "GridMetrics", dependencies: [metrics, prometheus], swiftSettings: settings),

        // MARK: Runtime: what every worker runs on
        .target(
            name: "GridBusClient",
            dependencies: [
                "ZeroMQ", "GridSchema", "GridJSON", "GridStore", "GridPostgres", "GridConfiguration", "GridSecurity", "GridMetrics", log, metrics,
                lifecycle,
            ],
            swiftSettings: settings
        ),
        // What the programs' HTTP servers share: authentication middleware, the error shape, /metrics, OpenAPI.
        .target(
            name: "GridHTTP",
            dependencies: [
                "GridSchema", "GridJSON", "GridSecurity", "GridConfiguration", "GridMetrics", "GridBusClient", hummingbird, hummingbirdAuth, log,
                metrics, prometheus,
                lifecycle,
                httpTypes, nio,
            ],
            swiftSettings: settings
        ),

        // MARK: Services: the daemon, its plugins, the workers, the load generator
        .target(
            name: "GridPlugins",
            dependencies: ["ZeroMQ", "GridSchema", "GridConfiguration", "GridSecurity", "CProcessSpawn", "CServiceNotify", log, metrics, lifecycle],
            swiftSettings: settings
        ),
        .target(
            name: "GridBusDaemon",
            dependencies: [
                "ZeroMQ", "GridSchema", "GridJSON", "GridStore", "GridPostgres", "GridConfiguration", "GridSecurity", "GridPlugins", "GridMetrics",
                log, metrics, prometheus, hummingbird, nio, lifecycle,
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridIntake",
            dependencies: [
                "GridBusClient", "GridDistrict", "GridSchema", "GridJSON", "GridStore", "GridConfiguration", "GridHTTP", "GridMetrics",
                "GridSecurity", log, metrics,
                hummingbird, httpTypes, nio, lifecycle,
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridDispatch",
            dependencies: [
                "GridBusClient", "GridDistrict", "GridSchema", "GridJSON", "GridStore", "GridConfiguration", "GridHTTP", "GridMetrics",
                "GridSecurity", log, metrics,
                hummingbird, httpTypes, nio, lifecycle,
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridNotify",
            dependencies: [
                "GridBusClient", "GridDistrict", "GridSchema", "GridJSON", "GridStore", "GridConfiguration", "GridHTTP", "GridMetrics",
                "GridSecurity",
                "GridPlugins",
                log, metrics, hummingbird, httpTypes, nio, lifecycle,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "GridStats",
            dependencies: [
                "GridBusClient", "GridDistrict", "GridSchema", "GridJSON", "GridStore", "GridConfiguration", "GridHTTP", "GridMetrics",
                "GridSecurity", log, metrics,
                hummingbird, httpTypes, nio, lifecycle,
            ],
            resources: [.copy("Dashboard")],
            swiftSettings: settings
        ),
        // The load generator of `gridctl load` and the end-to-end benchmark: reports and handlers over HTTP.
        .target(name: "GridLoad", dependencies: ["GridDistrict", "GridSchema", "GridJSON"], swiftSettings: settings),

        // MARK: Process set-up, for programs only: signals, the ready file, start and exit
        .target(
            name: "GridProgram",
            dependencies: ["CProgramSignals", "CServiceNotify", "GridConfiguration", "GridJSON", log, lifecycle],
            swiftSettings: settings
        ),

        // MARK: Executables, one thin main each
        .executableTarget(
            name: "gridbusd",
            dependencies: ["GridBusDaemon", "GridProgram", "GridConfiguration", "ZeroMQ", log, prometheus],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-intake",
            dependencies: ["GridIntake", "GridBusClient", "GridHTTP", "GridProgram", "GridMetrics", "GridConfiguration", log, metrics],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-dispatcher",
            dependencies: ["GridDispatch", "GridBusClient", "GridHTTP", "GridProgram", "GridMetrics", "GridConfiguration", log, metrics],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-notifier",
            dependencies: ["GridNotify", "GridBusClient", "GridHTTP", "GridProgram", "GridMetrics", "GridConfiguration", log, metrics],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "grid-stats",
            dependencies: ["GridStats", "GridBusClient", "GridHTTP", "GridProgram", "GridMetrics", "GridConfiguration", log, metrics],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gridctl",
            dependencies: [
                "GridBusClient", "GridSchema", "GridJSON", "GridConfiguration", "GridSecurity", "GridDistrict", "GridLoad", "GridStore", "ZeroMQ",
                argumentParser,
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gridbench",
            dependencies: [
                "GridBusClient", "GridSecurity", "GridConfiguration", "GridDistrict", "GridDispatch", "GridStats", "GridStore", "GridLoad", "ZeroMQ",
                "GridSchema", "GridJSON", argumentParser, log, hummingbird, httpTypes, lifecycle,
                // (s) starts real PostgreSQL servers the way the tests do.
                "GridBusTestSupport",
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "gridbus-probe",
            dependencies: ["GridBusClient", "GridSchema", "GridStore", "GridConfiguration", "GridProgram", argumentParser, log, lifecycle],
            swiftSettings: settings
        ),
        // The README's "Writing a worker", built: a program on GridBusClient that handles its own signals.
        .executableTarget(
            name: "gridbus-example-worker",
            dependencies: [
                "GridBusClient", "GridSchema", "GridStore", "GridConfiguration", log, lifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        // libzmq's own XSUB/XPUB proxy, the benchmark baseline (C, so nothing of ours is in its way).
        .executableTarget(name: "zmq-proxy-baseline", linkerSettings: [.linkedLibrary("zmq")]),

        // MARK: Tests
        .target(
            name: "GridBusTestSupport",
            dependencies: [
                "GridBusDaemon", "GridBusClient", "GridSecurity", "GridStore", "GridPostgres", "GridPlugins", "ZeroMQ", log, prometheus, lifecycle,
            ],
            path: "Tests/GridBusTestSupport",
            swiftSettings: settings
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"], swiftSettings: settings),
        .testTarget(name: "GridSchemaTests", dependencies: ["GridSchema", "GridJSON"], swiftSettings: settings),
        .testTarget(name: "GridStoreTests", dependencies: ["GridStore", "GridBusTestSupport"], swiftSettings: settings),
        .testTarget(
            name: "GridDistrictTests",
            dependencies: ["GridDistrict", "GridSchema", "GridConfiguration", "GridBusTestSupport"],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridIntakeTests",
            dependencies: [
                "GridIntake", "GridSchema", "GridJSON", "GridBusClient", "GridBusTestSupport", "GridDistrict", "GridHTTP", "GridStore", log,
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridDispatchTests",
            dependencies: [
                "GridDispatch", "GridDistrict", "GridSchema", "GridJSON", "GridBusClient", "GridBusTestSupport", "GridStore", "GridPostgres", log,
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridNotifyTests",
            dependencies: [
                "GridNotify", "GridDistrict", "GridSchema", "GridJSON", "GridBusClient", "GridBusTestSupport", "GridConfiguration", "GridPlugins",
                "GridStore", log,
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridStatsTests",
            dependencies: ["GridStats", "GridDistrict", "GridSchema", "GridJSON", "GridBusClient", "GridBusTestSupport", "GridStore", log],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridSecurityTests",
            dependencies: [
                "GridSecurity", "GridPlugins", "GridConfiguration", "GridBusTestSupport", "ZeroMQ", "GridSchema", "GridMetrics", "CServiceNotify",
                log, prometheus,
                metrics,
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridBusDaemonTests",
            dependencies: [
                "GridBusDaemon", "GridBusClient", "GridBusTestSupport", "GridConfiguration", "GridSecurity", "GridPlugins", "ZeroMQ", "GridSchema",
                "GridJSON", "GridDistrict", "GridStore", "GridPostgres", log,
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GridBusClientTests",
            dependencies: [
                "GridBusClient", "GridBusTestSupport", "GridStore", "ZeroMQ", "GridSchema", lifecycle,
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: settings
        ),
        // The benchmark's arithmetic (stages, minutes, quantiles): the numbers in docs/benchmarks.md rest on it.
        .testTarget(name: "GridBenchTests", dependencies: ["gridbench"], swiftSettings: settings),
        .testTarget(name: "GridLoadTests", dependencies: ["GridLoad", "GridDistrict"], swiftSettings: settings),
        .testTarget(name: "GridPostgresTests", dependencies: ["GridPostgres"], swiftSettings: settings),
        .testTarget(
            name: "GridHTTPTests",
            dependencies: ["GridHTTP", "GridJSON", "GridIntake", "GridDispatch", "GridNotify", "GridStats"],
            swiftSettings: settings
        ),
        // Runs the built executables (gridbusd, gridctl, gridbus-probe, the example worker) as child processes.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["GridBusClient", "GridBusDaemon", "GridBusTestSupport", "ZeroMQ", "GridSchema", "GridStore"],
            swiftSettings: settings
        ),
    ]
)
