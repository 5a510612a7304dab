// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "M",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mexec", targets: ["mexec"]),
        .executable(name: "mweb", targets: ["mweb"]),
        .executable(name: "mcli", targets: ["mcli"]),
        .executable(name: "mbench", targets: ["mbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // The database is the bus: schema, migrations, records and every SQL statement.
        .target(
            name: "mdb",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CWALBuffer",
            ],
            resources: [.embedInCode("migrations")]
        ),
        // A SQLite VFS over the default one that writes each commit's WAL frames with one write instead of two per page.
        .target(name: "CWALBuffer", linkerSettings: [.linkedLibrary("sqlite3")]),
        // Diffs of a run's workspace against its last approved point, approve/reject, apply to a target; drives `git`.
        .target(name: "mgit", dependencies: ["MProcess"]),
        // Random secrets and their stored hashes (tokens, sessions), shared by mweb and mcli.
        .target(name: "MAuth", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // libqrencode, for the pairing QR code `mcli up` and `mcli pair` print.
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode"),
        // libsystemd's sd_notify, for Type=notify units and the watchdog.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd"),
        // sd_notify for Type=notify units (readiness, status, watchdog), shared by mexec and mweb.
        .target(name: "MSystemd", dependencies: ["CSystemd"]),
        // posix_spawn's GNU extensions (chdir, closefrom), hidden from Swift's Glibc module.
        .target(name: "CProcess"),
        // Starting child processes with posix_spawn (agents, executors, git), shared by mexec and mgit.
        .target(name: "MProcess", dependencies: ["CProcess"]),
        // Confining a run's agent: bubblewrap namespaces and cgroup (or rlimit) limits, as mexec's executor applies them.
        .target(name: "MSandbox", dependencies: ["MProcess"]),
        // A run's output as people read it: terminal escapes parsed, the search index's text, transcripts (HTML, JSON lines).
        .target(name: "MTranscript", dependencies: ["mdb"]),
        // The agent side of a run's capability: the socket protocol and its client (no database).
        .target(name: "magent"),
        .executableTarget(
            name: "mexec",
            dependencies: [
                "mdb", "magent", "mgit", "MSystemd", "CProcess", "MProcess", "MSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "mweb",
            dependencies: [
                "mdb", "MAuth", "MProcess", "MSystemd", "MTranscript",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Public"), .embedInCode("openapi.yaml")]
        ),
        .executableTarget(
            name: "mcli",
            dependencies: [
                "mdb", "magent", "MAuth", "MProcess", "MTranscript", "CQRencode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // mbench: M's figures beside baselines measured in the same run (not part of the tests).
        .executableTarget(
            name: "mbench",
            dependencies: [
                "mdb", "CProcess", "MProcess", "MTranscript",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test support: locating the built executables, temp folders, polling with deadlines.
        .target(name: "MTestSupport", dependencies: ["mdb"], path: "Tests/MTestSupport"),
        // A tiny process per bus primitive, so tests can race real processes.
        .executableTarget(
            name: "mstress",
            dependencies: ["mdb", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            path: "Tests/mstress"
        ),
        .testTarget(name: "mdbTests", dependencies: ["mdb", "MProcess", "MTestSupport"]),
        .testTarget(name: "mcliTests", dependencies: ["mdb", "MProcess", "MTestSupport"]),
        .testTarget(name: "mgitTests", dependencies: ["mgit", "MProcess", "MTestSupport"]),
        .testTarget(name: "magentTests", dependencies: ["magent"]),
        .testTarget(name: "MTranscriptTests", dependencies: ["MTranscript", "mdb", "MTestSupport"]),
        .testTarget(name: "mexecTests", dependencies: ["mdb", "mexec", "magent", "CProcess", "MProcess", "MSandbox", "MTestSupport"]),
        .testTarget(
            name: "mwebTests",
            dependencies: [
                "mweb", "mdb", "MAuth", "MProcess", "MTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ]
        ),
    ]
)
