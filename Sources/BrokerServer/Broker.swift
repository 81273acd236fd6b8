import BrokerProtocol
import CSystem
import Logging
import ModelProviders
import SQLite
import SessionCore
import Threading
import ZeroMQ

/// The endpoints a running broker is bound to (ephemeral `tcp://…:*` resolved to real ports).
public struct BoundEndpoints: Sendable, Equatable {
    public var api: String
    public var events: String
    public var workers: String
}

/// A broker daemon: API, writer, reader and WAL checkpointer threads around one SQLite file.
///
/// `start()` binds every endpoint and opens the database, or throws with the
/// reason; `stop()` stops taking requests, answers what is in flight,
/// commits, closes the database, and returns. Executables and tests drive it
/// the same way.
public final class Broker: Sendable {
    public let configuration: BrokerConfiguration
    private let logger: Logger
    private let state = Latch<Running>()

    public init(configuration: BrokerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The endpoints bound by `start()`.
    public var endpoints: BoundEndpoints? { state.current?.endpoints }

    /// Reads the CURVE clients directory again (what SIGHUP does): keys removed there are refused from their
    /// next request on, their workers are dropped, and subscribers handshake again. Returns false when the
    /// broker has no keys to reload.
    @discardableResult
    public func reloadKeys() -> Bool {
        guard let running = state.current else { return false }
        return running.reloadKeys(logger: logger)
    }

    /// Opens the database, binds the endpoints and starts serving.
    @discardableResult
    public func start() throws -> BoundEndpoints {
        precondition(state.current == nil, "a Broker starts once")
        let running = try Running.start(configuration: configuration, logger: logger)
        state.set(running)
        logger.info(
            "broker \(BrokerVersion.version) serving",
            metadata: [
                "api": "\(running.endpoints.api)", "events": "\(running.endpoints.events)",
                "workers": "\(running.endpoints.workers)",
                "db": "\(configuration.databasePath)", "sync": "\(configuration.syncMode.rawValue)",
            ])
        return running.endpoints
    }

    /// Graceful shutdown; safe to call more than once and from any thread.
    public func stop() {
        state.current?.stop(logger: logger)
    }
}

/// The threads and resources of a started broker.
final class Running: Sendable {
    let shared: BrokerShared
    let context: ZMQContext
    let endpoints: BoundEndpoints
    let threads: [NamedThread]
    let apiThread: NamedThread
    /// The ZAP handler, stopped after every other thread (see `ZAPHandler.run`).
    let zapThread: NamedThread?
    let endpointLocks: [EndpointLock]
    let stopped = Latch<Bool>()

    private init(
        shared: BrokerShared, context: ZMQContext, endpoints: BoundEndpoints, apiThread: NamedThread,
        threads: [NamedThread], zapThread: NamedThread?, endpointLocks: [EndpointLock]
    ) {
        self.zapThread = zapThread
        self.shared = shared
        self.context = context
        self.endpoints = endpoints
        self.apiThread = apiThread
        self.threads = threads
        self.endpointLocks = endpointLocks
    }

    static func start(configuration: BrokerConfiguration, logger: Logger) throws -> Running {
        csystem_keep_large_allocations_in_heap()
        // Keys and protected mode are settled before anything is opened, so a refused start leaves nothing behind.
        let security = try BrokerSecurity.load(configuration.security, logger: logger)
        if security == nil {
            if configuration.security.insecure {
                let exposed = [configuration.apiEndpoint, configuration.eventsEndpoint, configuration.workersEndpoint]
                    .filter { !ProtectedMode.isLocal($0) }
                if !exposed.isEmpty {
                    let list = exposed.joined(separator: ", ")
                    logger.warning(
                        "insecure: serving other hosts without authentication or encryption on \(list); anyone who reaches them can read and change every session")
                }
            } else {
                try ProtectedMode.check(configuration)
            }
        }
        let locks = try [configuration.apiEndpoint, configuration.eventsEndpoint, configuration.workersEndpoint]
            .compactMap(EndpointLock.acquire)
        let database = try DatabaseFile(path: configuration.databasePath, syncMode: configuration.syncMode)
        let leftovers = OpenImport.removeLeftovers(databasePath: configuration.databasePath)
        if leftovers > 0 { logger.notice("deleted \(leftovers) import spool(s) an earlier run left behind") }
        let counter = loadTokenCounter(logger: logger)
        let recount = try TokenRecount.reconcile(try database.openWriter(), counter: counter)
        if recount.recountedMessages > 0 {
            logger.notice("recounted \(recount.recountedMessages) stored messages with the exact tokenizer")
        }
        let shared = BrokerShared(configuration: configuration, database: database, counter: counter, security: security)
        let summarizer = try configuration.compaction.model.map { settings in
            ModelSummarizer(provider: try settings.makeProvider(environment: ProcessIO.environment()))
        }
        let context = try ZMQContext(ioThreads: 1)
        var threads: [NamedThread] = []
        var zapThread: NamedThread?
        if let security {
            // The ZAP handler is bound before any endpoint, so no handshake is ever let through unchecked.
            let zapStarted = Latch<Result<String, BrokerStartError>>()
            zapThread = NamedThread(name: "broker-zap") {
                ZAPHandler.start(
                    context: context, security: security, shared: shared, started: zapStarted, logger: logger)
            }
            if case .failure(let error) = zapStarted.wait() {
                Self.abandon(shared, threads, zap: zapThread)
                throw error
            }
        }

        // Each thread creates its own sockets and connections, then reports how its start went.
        let writerStarted = Latch<Result<String, BrokerStartError>>()
        threads.append(
            NamedThread(name: "broker-writer") {
                WriterStartup.run(shared: shared, context: context, started: writerStarted, logger: logger)
            })
        let eventsEndpoint: String
        switch writerStarted.wait() {
        case .success(let endpoint): eventsEndpoint = endpoint
        case .failure(let error):
            Self.abandon(shared, threads, zap: zapThread)
            throw error
        }
        for index in 0..<configuration.readerThreads {
            let readerStarted = Latch<Result<String, BrokerStartError>>()
            threads.append(
                NamedThread(name: "broker-read\(index)") {
                    do {
                        let connection = try database.openReader()
                        readerStarted.set(.success(""))
                        let reader = SessionReader(
                            connection: connection, counter: counter, maxPageBytes: configuration.maxReplyBytes)
                        reader.compactionPolicy = configuration.compaction.policy
                        reader.onCompactionDue = { [compactions = shared.compactions] id in
                            compactions.requestAuto(id)
                        }
                        ReaderLoop(shared: shared, reader: reader).run()
                    } catch {
                        readerStarted.set(.failure(BrokerStartError(message: "cannot open a reader: \(error)")))
                    }
                })
            if case .failure(let error) = readerStarted.wait() {
                Self.abandon(shared, threads, zap: zapThread)
                throw error
            }
        }
        threads.append(NamedThread(name: "broker-ckpt") { Checkpointer.run(shared: shared, logger: logger) })
        threads.append(
            NamedThread(name: "broker-compact") {
                do {
                    let reader = SessionReader(connection: try database.openReader(), counter: counter)
                    Compactor(shared: shared, reader: reader, model: summarizer, logger: logger).run()
                } catch {
                    // Sessions are still served and requests still kept within their limits, by omission.
                    logger.error("compactor: cannot open the database; compaction is off: \(error)")
                }
            })

        let dispatcherStarted = Latch<Result<String, BrokerStartError>>()
        threads.append(
            NamedThread(name: "broker-dispatch") {
                DispatcherStartup.run(shared: shared, context: context, started: dispatcherStarted, logger: logger)
            })
        let workersEndpoint: String
        switch dispatcherStarted.wait() {
        case .success(let endpoint): workersEndpoint = endpoint
        case .failure(let error):
            Self.abandon(shared, threads, zap: zapThread)
            throw error
        }

        let apiStarted = Latch<Result<String, BrokerStartError>>()
        let apiThread = NamedThread(name: "broker-api") {
            APIStartup.run(shared: shared, context: context, started: apiStarted, logger: logger)
        }
        let apiEndpoint: String
        switch apiStarted.wait() {
        case .success(let endpoint): apiEndpoint = endpoint
        case .failure(let error):
            apiThread.join()
            Self.abandon(shared, threads, zap: zapThread)
            throw error
        }
        let endpoints = BoundEndpoints(api: apiEndpoint, events: eventsEndpoint, workers: workersEndpoint)
        return Running(
            shared: shared, context: context, endpoints: endpoints, apiThread: apiThread, threads: threads,
            zapThread: zapThread, endpointLocks: locks)
    }

    /// Stops threads already started when a later part of start-up failed.
    private static func abandon(_ shared: BrokerShared, _ threads: [NamedThread], zap: NamedThread?) {
        shared.stopRequested.set(true)
        shared.dispatch.wakeup.signal()
        shared.writeQueue.close()
        shared.readQueue.close()
        shared.compactions.queue.close()
        for thread in threads { thread.join() }
        shared.zapStop.set(true)
        zap?.join()
    }

    func reloadKeys(logger: Logger) -> Bool {
        guard let security = shared.security else {
            logger.notice("auth: no CURVE keys configured; nothing to reload")
            return false
        }
        guard let change = security.reload(logger: logger) else { return true }
        shared.emit(
            Topic.authReloaded,
            JSONObject([
                ("keys", .int(Int64(security.keyring.count))), ("added", .int(Int64(change.added.count))),
                ("removed", .int(Int64(change.removed.count))), ("changed", .int(Int64(change.changed.count))),
            ]))
        if change.narrowsAccess { shared.dispatch.post(.keysChanged) }
        return true
    }

    func stop(logger: Logger) {
        // The first caller stops the threads; any other waits until that is done.
        guard shared.stopRequested.trySet(true) else { return _ = stopped.wait() }
        shared.outbox.wakeup.signal()
        shared.dispatch.wakeup.signal()
        apiThread.join()
        shared.compactions.queue.close()
        shared.writeQueue.close()
        shared.readQueue.close()
        for thread in threads { thread.join() }
        shared.zapStop.set(true)
        zapThread?.join()
        logger.info("broker stopped; database closed")
        stopped.set(true)
    }
}

/// Why the broker could not start.
public struct BrokerStartError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The exact cl100k_base counter, or the labelled approximation when the ranks file cannot be loaded.
func loadTokenCounter(logger: Logger) -> any TokenCounter {
    let loaded = TokenCounterLoader.loadDefault()
    if let failure = loaded.failure {
        logger.warning("token counts are APPROXIMATE (exact: false in replies): \(failure)")
    }
    return loaded.counter
}
