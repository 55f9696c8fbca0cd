// swift-tools-version:6.2
// imanage-tokend: keeps iManage Work OAuth grants alive.
//
// Modules and the one direction of their dependencies:
//   IManageWire    iManage's wire formats: token and /api answers, error codes, redaction, forms, HTML text (Foundation only)
//   TokendPolicy   pure rules: statuses, when to refresh, how to classify an answer
//   TokendConfig   the TOML configuration, validated and resolved          -> Policy, Wire
//   TokendStore    SQLite (libsqlite3) and token encryption                 -> Policy
//   TokendPostgres the same store on a shared PostgreSQL (postgres-nio)      -> Policy, Config, Store
//   IManageClient  HTTP to iManage (AsyncHTTPClient)                        -> Policy, Wire
//   TokendLogging  journal / key=value log output                           (swift-log only)
//   TokendEngine   the daemon: scheduling, refreshing, single instance      -> Policy, Config, Store, Client
//                  (RefreshEngineService: the engine as a service of the daemon's one service group)
//   TokendNotify   delivers the notifications outbox: a command and/or a signed webhook -> Config, Store
//   TokendReports  status and history reports: rules, sorting, table, JSON  -> Policy, Store
//   TokendMetrics  /metrics in the Prometheus text format (swift-prometheus)  -> Policy, Config, Store, Reports, HTTP
//   TokendHTTP     HTTPListener, the one way a listener runs (a service of the daemon's group), and the
//                  limits every listener shares: idle timeout, connections, request size (Hummingbird)
//   TokendAPI      the local token API over a Unix socket (Hummingbird), and its client -> Engine, Reports, HTTP
//   TokendWebInput the callback's query: the pages' form limits and what it asks for -> Wire
//   TokendWeb      the authorisation pages (Hummingbird): per user and the Tracker library page -> Engine, Store, Client, Config, WebInput, Reports
//   TokendCLI      the subcommands, thin over Engine and Store
//   IManageEmulator an iManage Work server for tests, benchmarks and the demo -> Wire
//
// With TOKEND_FUZZ=1 in the environment, three libFuzzer targets are added (see the end of this
// file and scripts/fuzz). Without it, `swift build` and `swift test` never see them.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "imanage-tokend",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "imanage-tokend", targets: ["imanage-tokend"]),
        .executable(name: "imanage-emulator", targets: ["imanage-emulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Thin system-library target over the system's libsqlite3 (libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // prctl(2), which Swift cannot call (it is C-variadic): the daemon forbids core dumps of itself.
        .systemLibrary(name: "CTokendSystem", path: "Sources/CTokendSystem"),

        .target(name: "IManageWire", swiftSettings: strict),
        .target(name: "TokendPolicy", swiftSettings: strict),
        .target(
            name: "TokendConfig",
            dependencies: ["TokendPolicy", "IManageWire", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "TokendStore",
            dependencies: ["CSQLite", "TokendPolicy", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "TokendPostgres",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "IManageClient",
            dependencies: [
                "TokendPolicy", "IManageWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TokendLogging",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "TokendEngine",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore", "IManageClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(name: "TokendReports", dependencies: ["TokendPolicy", "TokendStore"], swiftSettings: strict),
        .target(
            name: "TokendMetrics",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore", "TokendReports", "TokendHTTP",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TokendNotify",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TokendHTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TokendAPI",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore", "TokendEngine", "TokendReports", "TokendHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(name: "TokendWebInput", dependencies: ["IManageWire"], swiftSettings: strict),
        .target(
            name: "TokendWeb",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore", "IManageClient", "TokendEngine", "TokendWebInput", "TokendHTTP", "TokendReports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TokendCLI",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore", "IManageClient", "TokendEngine", "TokendLogging", "TokendWeb",
                "TokendReports", "TokendAPI", "TokendMetrics", "TokendNotify", "CTokendSystem", "TokendPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // import --from runs its verifications on the HTTP client's own event loops.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "imanage-tokend", dependencies: ["TokendCLI"], swiftSettings: strict),

        .target(
            name: "IManageEmulator",
            dependencies: [
                "IManageWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "imanage-emulator",
            dependencies: [
                "IManageEmulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "tokend-benchmark",
            dependencies: [
                "TokendEngine", "TokendStore", "TokendConfig", "TokendPolicy", "IManageClient", "TokendMetrics", "TokendReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/tokend-benchmark",
            swiftSettings: strict
        ),

        // The fixtures the test targets share: ports, configuration files, seeded grants, the emulator, HTTP and form helpers.
        .target(
            name: "TokendTestSupport",
            dependencies: [
                "TokendPolicy", "TokendConfig", "TokendStore", "IManageClient", "TokendEngine", "IManageEmulator", "TokendHTTP",
                // The scratch PostgreSQL server (PostgreSQLTestServer) of the store and CLI tests.
                "TokendPostgres", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/TokendTestSupport", swiftSettings: strict),
        .testTarget(name: "PolicyTests", dependencies: ["TokendPolicy"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["IManageWire"], swiftSettings: strict),
        .testTarget(name: "ConfigTests", dependencies: ["TokendConfig", "TokendPolicy"], swiftSettings: strict),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "TokendStore", "TokendPostgres", "TokendConfig", "TokendPolicy", "CSQLite", "TokendTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "EmulatorTests",
            dependencies: [
                "IManageEmulator", "TokendTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "IManageClient", "TokendPolicy", "TokendTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LoggingTests",
            dependencies: ["TokendLogging", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["TokendCLI", "TokendNotify", "TokendTestSupport", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: strict),
        .testTarget(
            name: "ReportsTests", dependencies: ["TokendReports", "TokendPolicy", "TokendStore", "TokendTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "APITests",
            dependencies: [
                "TokendAPI", "TokendEngine", "TokendStore", "TokendPolicy", "TokendConfig", "TokendReports",
                "IManageClient", "IManageEmulator", "TokendHTTP", "TokendTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "TokendEngine", "TokendStore", "TokendPolicy", "TokendConfig", "IManageClient", "IManageEmulator", "TokendLogging",
                "TokendTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WebTests",
            dependencies: [
                "TokendWeb", "TokendWebInput", "IManageWire", "TokendEngine", "TokendStore", "TokendPolicy", "TokendConfig", "IManageClient", "IManageEmulator",
                "TokendTestSupport",
                "TokendAPI",  // the effective status on every surface: the pages and the token API side by side
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)

// MARK: Fuzzing (only with TOKEND_FUZZ=1; built and run by scripts/fuzz)
//
// A fuzz target is an executable whose `LLVMFuzzerTestOneInput` (exported with `@_cdecl`) is
// called by libFuzzer, linked in by `-sanitize=fuzzer`. libFuzzer's own `main` is not the one
// that runs: SwiftPM 6.3 compiles an executable target's top-level code as `<module>_main` and
// links with `--defsym main=<module>_main` (seen in .build-fuzz/debug.yaml). A first target
// without a driver call linked, ran SwiftPM's `main` and exited without fuzzing; with
// `-parse-as-library` nothing would define `<module>_main` for that `--defsym`. So each
// target's main.swift starts libFuzzer's driver itself, in one line: `LLVMFuzzerRunDriver`,
// declared for Swift by the header-only C target CLibFuzzer.
if Context.environment["TOKEND_FUZZ"] == "1" {
    package.targets += [
        .target(name: "CLibFuzzer", path: "Fuzz/Targets/CLibFuzzer"),
        .executableTarget(
            name: "fuzz-token-response", dependencies: ["CLibFuzzer", "IManageWire", "TokendPolicy"],
            path: "Fuzz/Targets/fuzz-token-response", swiftSettings: strict),
        .executableTarget(
            name: "fuzz-configuration", dependencies: ["CLibFuzzer", "TokendConfig", "TokendPolicy"],
            path: "Fuzz/Targets/fuzz-configuration", swiftSettings: strict),
        .executableTarget(
            name: "fuzz-callback-query", dependencies: ["CLibFuzzer", "TokendWebInput", "IManageWire"],
            path: "Fuzz/Targets/fuzz-callback-query", swiftSettings: strict),
    ]
}
