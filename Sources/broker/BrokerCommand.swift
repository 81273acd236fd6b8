import ArgumentParser
import BrokerProtocol
import BrokerServer
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `broker`: the AgentBroker daemon.
@main
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "The AgentBroker daemon: durable LLM agent sessions over ZeroMQ.",
        discussion: """
            Each setting comes from its flag, else its environment variable, else the configuration file \
            (--config or BROKER_CONFIG, JSON), else the default. SIGINT or SIGTERM stops it gracefully; \
            SIGHUP reads the CURVE clients directory again.

            Without --curve-secret-key the broker serves only this host (protected mode): it refuses to start \
            when an endpoint binds anything but loopback or ipc://, unless --insecure is given.
            """)

    @Option(help: "ROUTER endpoint for clients (env BROKER_API; default tcp://127.0.0.1:5555).")
    var api: String?
    @Option(help: "PUB endpoint for events (env BROKER_EVENTS; default tcp://127.0.0.1:5556).")
    var events: String?
    @Option(help: "ROUTER endpoint for agent workers (env BROKER_WORKERS; default tcp://127.0.0.1:5557).")
    var workers: String?
    @Option(help: "SQLite database file (env BROKER_DB; default data/broker.db).")
    var db: String?
    @Option(help: "normal (survives a killed broker) or full (survives power loss) (env BROKER_SYNC).")
    var sync: String?
    @Option(help: "Configuration file (JSON; env BROKER_CONFIG).")
    var config: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (env BROKER_LOG_LEVEL).")
    var logLevel: String?
    @Option(
        help: "The broker's CURVE .key_secret file: every endpoint then requires CURVE (env BROKER_CURVE_SECRET_KEY).")
    var curveSecretKey: String?
    @Option(help: "Folder of authorized client .key files with their roles (env BROKER_CURVE_CLIENTS).")
    var curveClients: String?
    @Flag(help: "Serve non-loopback endpoints without CURVE keys (config insecure: true). Anyone reaching them owns them.")
    var insecure = false

    func run() throws {
        // Block the signals first, before any thread starts (every thread inherits the mask, only sigwait
        // below receives them) and before reading the configuration: a SIGHUP then must not kill the broker.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let environment = ProcessIO.environment()
        let overrides = ConfigurationOverrides(
            api: api, events: events, workers: workers, db: db, sync: sync, logLevel: logLevel, configFile: config,
            curveSecretKey: curveSecretKey, curveClients: curveClients, insecure: insecure)
        let configuration: BrokerConfiguration
        do {
            configuration = try BrokerConfiguration.resolve(flags: overrides, environment: environment)
        } catch {
            throw ValidationError(error.description)
        }
        guard let level = Logger.Level(rawValue: configuration.logLevel) else {
            throw ValidationError("unknown log level '\(configuration.logLevel)'")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "agentbroker")

        let broker = Broker(configuration: configuration, logger: logger)
        do {
            try broker.start()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        var received: Int32 = 0
        while true {
            sigwait(&signals, &received)
            guard received == SIGHUP else { break }
            logger.info("received SIGHUP, reloading the CURVE clients directory")
            broker.reloadKeys()
        }
        logger.info("received \(received == SIGINT ? "SIGINT" : "SIGTERM"), shutting down")
        broker.stop()
    }
}
