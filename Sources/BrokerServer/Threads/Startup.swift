import Logging
import SQLite
import SessionCore
import Threading
import ZeroMQ

/// Start-up of the writer thread: its connection and the event PUB socket, then its loop.
enum WriterStartup {
    static func run(
        shared: BrokerShared, context: ZMQContext, started: Latch<Result<String, BrokerStartError>>, logger: Logger
    ) {
        let committer: WriteCommitter
        do {
            let connection = try shared.database.openWriter()
            let writer = try SessionWriter(
                connection: connection, counter: shared.counter,
                defaultTokenLimit: shared.configuration.defaultTokenLimit)
            writer.compactionPolicy = shared.configuration.compaction.policy
            let (publisher, events) = try EventsSocket.bind(
                context: context, endpoint: shared.configuration.eventsEndpoint, security: shared.security)
            committer = WriteCommitter(
                connection: connection, writer: writer, publisher: publisher, eventsEndpoint: events, context: context,
                logger: logger)
            started.set(.success(events))
        } catch let error as BrokerStartError {
            return started.set(.failure(error))
        } catch {
            return started.set(.failure(BrokerStartError(message: "cannot open the database: \(error)")))
        }
        committer.run(shared: shared)
    }
}

/// Start-up of the API thread: the ROUTER, then its loop.
enum APIStartup {
    static func run(
        shared: BrokerShared, context: ZMQContext, started: Latch<Result<String, BrokerStartError>>, logger: Logger
    ) {
        let loop: APILoop
        do {
            let router = try ZMQSocket(context: context, type: .router)
            try router.setRouterMandatory(true)
            try router.setMaxMessageSize(shared.configuration.transportMaxMessageBytes)
            try router.setHighWaterMarks(send: 10_000, receive: 10_000)
            let api = try BindError.bind(router, shared.configuration.apiEndpoint, role: "api", security: shared.security)
            loop = APILoop(router: router, shared: shared, logger: logger)
            started.set(.success(api))
        } catch let error as BrokerStartError {
            return started.set(.failure(error))
        } catch {
            return started.set(.failure(BrokerStartError(message: "cannot start the api socket: \(error)")))
        }
        loop.run()
    }
}

/// The events PUB socket, made the same way at start-up and when a key reload rebinds it.
enum EventsSocket {
    static func bind(context: ZMQContext, endpoint: String, security: BrokerSecurity?) throws -> (ZMQSocket, String) {
        let publisher = try ZMQSocket(context: context, type: .pub)
        // A slow subscriber loses events past this mark (and replays them with events:since);
        // the broker never waits for it.
        try publisher.setHighWaterMarks(send: 100_000, receive: 1_000)
        return (publisher, try BindError.bind(publisher, endpoint, role: "events", security: security))
    }
}

enum BindError {
    /// Binds `socket` (a CURVE server first when the broker has keys, with `role` as its ZAP domain),
    /// turning EADDRINUSE into a message that says what to do.
    static func bind(_ socket: ZMQSocket, _ endpoint: String, role: String, security: BrokerSecurity?) throws -> String
    {
        let wanted = endpoint.hasSuffix(":0") ? String(endpoint.dropLast()) + "*" : endpoint
        do {
            if let security { try socket.makeCurveServer(keys: security.serverKeys, domain: role) }
            return try socket.bind(wanted)
        } catch let error where error == .addressInUse {
            throw BrokerStartError(
                message: "the \(role) endpoint \(endpoint) is already in use (is another broker running?)")
        } catch {
            throw BrokerStartError(message: "cannot bind the \(role) endpoint \(endpoint): \(error)")
        }
    }
}

/// Copies the WAL into the database file four times a second, off the commit path.
enum Checkpointer {
    static func run(shared: BrokerShared, logger: Logger) {
        let connection: Connection
        do { connection = try shared.database.openReader() } catch {
            return logger.error("checkpointer: cannot open the database: \(error)")
        }
        while shared.stopRequested.wait(milliseconds: 250) == nil {
            do { try connection.checkpoint() } catch {
                logger.debug("checkpointer: \(error)")
            }
            // Idle exports hold snapshots the checkpoint cannot pass; idle imports hold spool files.
            shared.transfers.sweep()
        }
        shared.transfers.closeAll()
    }
}
