// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "AgentBroker",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "broker", targets: ["broker"]),
        .executable(name: "brokerctl", targets: ["brokerctl"]),
        .executable(name: "broker-bench", targets: ["broker-bench"]),
        .executable(name: "tokenizer-bench", targets: ["tokenizer-bench"]),
        .executable(name: "ralph", targets: ["ralph"]),
        .executable(name: "pm-agent", targets: ["pm-agent"]),
        .executable(name: "dev-agent", targets: ["dev-agent"]),
        .executable(name: "qa-agent", targets: ["qa-agent"]),
        .executable(name: "harness-agent", targets: ["harness-agent"]),
        .executable(name: "merge-agent", targets: ["merge-agent"]),
        .library(name: "BrokerClient", targets: ["BrokerClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C libraries from Debian packages: libzmq3-dev, libsqlite3-dev, zlib1g-dev.
        // No pkgConfig: Debian's libzmq.pc adds `-isystem /usr/include/mit-krb5`, which SwiftPM refuses with
        // a warning on every build; zmq.h is in /usr/include and the modulemap links libzmq itself.
        .systemLibrary(
            name: "CZeroMQ",
            providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // Small C helpers for what Glibc's Swift module does not expose (thread names).
        .target(name: "CSystem"),

        // Thin Swift wrappers over the C libraries.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strict),
        // OS threads, a blocking queue and a latch: the broker's loops and brokerctl's prefetching.
        .target(name: "Threading", dependencies: ["CSystem"], swiftSettings: strict),
        .target(name: "SQLite", dependencies: ["CSQLite"], swiftSettings: strict),
        // CurveZMQ certificates in ZeroMQ's ZPL files (CZMQ's and pyzmq's forms): every process that speaks CURVE.
        .target(name: "CurveCertificates", dependencies: ["ZeroMQ", "BrokerProtocol"], swiftSettings: strict),

        // Exact cl100k_base token counting; the ranks file ships as a resource (see README).
        .target(name: "Tokenizer", resources: [.copy("Resources/cl100k_base.tiktoken")], swiftSettings: strict),

        // Wire types shared by every process: JSON, JSON-RPC, error kinds, method names.
        .target(name: "BrokerProtocol", swiftSettings: strict),
        .target(name: "Gzip", dependencies: ["CZlib"], swiftSettings: strict),
        // Sessions, messages, checkpoints and their SQLite store.
        .target(
            name: "SessionCore",
            dependencies: ["SQLite", "BrokerProtocol", "Tokenizer", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // The broker daemon: api ROUTER, group-commit writer, readers, event PUB.
        .target(
            name: "BrokerServer",
            dependencies: [
                "ZeroMQ", "SessionCore", "BrokerProtocol", "ModelProviders", "CSystem", "Threading",
                "CurveCertificates", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Models behind one interface: OpenAI-compatible, Anthropic, a local command, recorded answers.
        .target(name: "ModelProviders", dependencies: ["BrokerProtocol"], swiftSettings: strict),
        // Client side: request with time-out and retry, event subscriber.
        .target(
            name: "BrokerClient", dependencies: ["ZeroMQ", "BrokerProtocol", "CurveCertificates"],
            swiftSettings: strict),
        // The five agent roles, their shared runtime (options, model turns, git, shell) and the Ralph Loop.
        .target(
            name: "AgentKit",
            dependencies: [
                "BrokerClient", "BrokerProtocol", "ModelProviders", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Thin executables: parse options, call the libraries.
        .executableTarget(
            name: "broker",
            dependencies: [
                "BrokerServer", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "brokerctl",
            dependencies: [
                "BrokerClient", "BrokerProtocol", "SessionCore", "Gzip", "Threading", "CurveCertificates",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "broker-bench",
            dependencies: [
                "BrokerServer", "BrokerClient", "SessionCore", "SQLite", "ZeroMQ", "CSystem", "Gzip", "Threading",
                "CurveCertificates", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        .executableTarget(name: "tokenizer-bench", dependencies: ["Tokenizer"], swiftSettings: strict),
        // The agents and the task controller: thin mains over AgentKit.
        .executableTarget(name: "pm-agent", dependencies: ["AgentKit"], swiftSettings: strict),
        .executableTarget(name: "dev-agent", dependencies: ["AgentKit"], swiftSettings: strict),
        .executableTarget(name: "qa-agent", dependencies: ["AgentKit"], swiftSettings: strict),
        .executableTarget(name: "harness-agent", dependencies: ["AgentKit"], swiftSettings: strict),
        .executableTarget(name: "merge-agent", dependencies: ["AgentKit"], swiftSettings: strict),
        .executableTarget(name: "ralph", dependencies: ["AgentKit"], swiftSettings: strict),

        .testTarget(
            name: "TokenizerTests", dependencies: ["Tokenizer"], resources: [.copy("Fixtures/token-fixtures.json")],
            swiftSettings: strict),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ", "CurveCertificates"], swiftSettings: strict),
        .testTarget(name: "ModelProvidersTests", dependencies: ["ModelProviders"], swiftSettings: strict),
        .testTarget(name: "BrokerProtocolTests", dependencies: ["BrokerProtocol"], swiftSettings: strict),
        .testTarget(
            name: "SessionCoreTests", dependencies: ["SessionCore"], resources: [
                .copy("Fixtures/compaction-eval"), .copy("Fixtures/compaction-eval-holdout"),
                .copy("Fixtures/compaction-eval-dev2"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "BrokerServerTests",
            dependencies: [
                "BrokerServer", "BrokerClient", "ZeroMQ", "ModelProviders", "AgentKit", "Gzip", "broker", "brokerctl",
                "ralph",
                "pm-agent", "dev-agent", "qa-agent", "harness-agent", "merge-agent",
            ],
            swiftSettings: strict),
    ]
)
