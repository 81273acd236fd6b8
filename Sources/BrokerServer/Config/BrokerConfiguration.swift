import BrokerProtocol
import SessionCore

/// Everything a broker needs to start. Defaults are the embedded ones the quick start runs on.
public struct BrokerConfiguration: Sendable, Equatable {
    /// ROUTER endpoint for REQ/DEALER clients (JSON-RPC).
    public var apiEndpoint = "tcp://127.0.0.1:5555"
    /// PUB endpoint for events.
    public var eventsEndpoint = "tcp://127.0.0.1:5556"
    /// ROUTER endpoint for agent workers.
    public var workersEndpoint = "tcp://127.0.0.1:5557"
    /// The SQLite file; its folder is created if missing.
    public var databasePath = "data/broker.db"
    public var syncMode: SyncMode = .normal
    /// The largest request frame answered; larger ones get `too_large`.
    public var maxRequestBytes = 8 << 20
    /// The size at which a `session:getMessages` page stops taking more messages (`hasMore` then says so).
    public var maxReplyBytes = 32 << 20
    /// Threads serving reads (each with its own SQLite connection).
    public var readerThreads = 2
    /// Token limit for sessions created without one.
    public var defaultTokenLimit: Int64 = 100_000
    public var logLevel = "info"
    /// When and how sessions are compacted.
    public var compaction = CompactionSettings()
    /// Heartbeats, job attempts and time-outs on the workers endpoint.
    public var dispatch = DispatchSettings()
    /// CURVE keys, authorized clients, and protected mode.
    public var security = SecuritySettings()

    public init() {}

    /// libzmq drops a peer that sends a frame over this, far above `maxRequestBytes`,
    /// so the application check can answer `too_large` for everything in between.
    public var transportMaxMessageBytes: Int64 { Int64(maxRequestBytes) * 4 + (1 << 20) }
}

/// Values given on the command line; nil means not given.
public struct ConfigurationOverrides: Sendable {
    public var api: String?
    public var events: String?
    public var workers: String?
    public var db: String?
    public var sync: String?
    public var logLevel: String?
    public var configFile: String?
    public var curveSecretKey: String?
    public var curveClients: String?
    /// `--insecure` was given (false means not given: the file may still say `insecure: true`).
    public var insecure = false

    public init(
        api: String? = nil, events: String? = nil, workers: String? = nil, db: String? = nil, sync: String? = nil,
        logLevel: String? = nil, configFile: String? = nil, curveSecretKey: String? = nil, curveClients: String? = nil,
        insecure: Bool = false
    ) {
        self.curveSecretKey = curveSecretKey
        self.curveClients = curveClients
        self.insecure = insecure
        self.api = api
        self.events = events
        self.workers = workers
        self.db = db
        self.sync = sync
        self.logLevel = logLevel
        self.configFile = configFile
    }
}

/// A configuration that cannot be used, with the reason.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
