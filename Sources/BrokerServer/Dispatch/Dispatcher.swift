import BrokerProtocol
import Logging
import SessionCore
import Threading
import ZeroMQ

/// The dispatcher thread: owns the workers ROUTER, the worker registry and the live jobs.
///
/// Jobs are rows first (the writer stores `job:submit`, then tells this
/// thread); every state change the dispatcher makes goes back through the
/// writer, so events keep one sequence and a restart finds each job where it
/// was. Only this thread touches the workers socket (DESIGN.md rule 1).
final class Dispatcher {
    let router: ZMQSocket
    let shared: BrokerShared
    let settings: DispatchSettings
    let logger: Logger
    var registry = WorkerRegistry()
    /// Jobs not finished yet, by id.
    var jobs: [String: LiveJob] = [:]
    /// Per service, queued job ids in dispatch order.
    var queues: [String: [String]] = [:]
    /// `job:wait` calls waiting for a job to end.
    var waiters: [String: [Waiter]] = [:]
    var nextHeartbeatAt: Int64 = 0
    /// When lost workers, job deadlines and waits are next checked: a sweep every `sweepMs`, not a scan of
    /// every job and waiter each time a message arrives.
    var nextSweepAt: Int64 = 0
    var sweepMs: Int64 { min(50, settings.heartbeatMs) }

    struct LiveJob {
        var record: JobRecord
        /// A final transition is on its way to the writer; time-outs and lost workers no longer apply.
        var finishing = false
    }

    struct Waiter {
        var client: ClientReply
        var deadline: Int64
    }

    init(router: ZMQSocket, shared: BrokerShared, logger: Logger) {
        self.router = router
        self.shared = shared
        self.settings = shared.configuration.dispatch
        self.logger = logger
    }

    func run(unfinished: [JobRecord]) {
        restore(unfinished)
        var poller = ZMQPoller()
        poller.add(router)
        poller.add(fileDescriptor: shared.dispatch.wakeup.fileDescriptor)
        while shared.stopRequested.current == nil {
            let ready: [Int]
            let wait = max(0, nextSweepAt - Timestamp.monotonicMillis())
            do { ready = try poller.poll(timeoutMs: Int(wait)) } catch {
                logger.error("dispatcher: poll failed: \(error)")
                break
            }
            if ready.contains(1) {
                shared.dispatch.wakeup.reset()
                for message in shared.dispatch.drain() { handle(message) }
            }
            if ready.contains(0) { receiveFromWorkers() }
            let now = Timestamp.monotonicMillis()
            if now >= nextSweepAt {
                sweep(now: now)
                nextSweepAt = now + sweepMs
            }
        }
        shutDown()
    }

    private func handle(_ message: DispatchMessage) {
        switch message {
        case .notices(let notices):
            for notice in notices {
                switch notice {
                case .queued(let record): enqueue(record, atFront: false)
                case .cancelled(let record): forget(record.id, answeringWith: record)
                }
            }
            dispatchQueued()
        case .keysChanged:
            recheckWorkers()
        case .wait(let jobId, let timeoutMs, let client):
            addWaiter(jobId, timeoutMs: timeoutMs, client: client)
        case .listWorkers(let client):
            reply(client, JSON.object(workerList()).serialized)
        case .started(let jobId, let worker, let request, let stored):
            started(jobId, worker: worker, request: request, stored: stored)
        case .finished(let jobId, let outcome):
            finished(jobId, outcome)
        case .restored(let records, let replacing):
            if replacing {
                // The database was replaced: jobs held in memory no longer exist. A worker's late REPLY
                // for one is then a protocol error, as for any job the broker does not know.
                jobs.removeAll()
                queues.removeAll()
            }
            restore(records.filter { jobs[$0.id] == nil }, reason: "restored from an import")
            dispatchQueued()
        }
    }

    /// Heartbeats out, lost workers dropped, expired jobs and waits answered.
    private func sweep(now: Int64) {
        for identity in registry.expired(at: now) { detach(identity, reason: "heartbeat lost", notify: false) }
        if now >= nextHeartbeatAt {
            for identity in registry.workers.keys { send(identity, .heartbeat) }
            nextHeartbeatAt = now + settings.heartbeatMs
        }
        expireJobs()
        expireWaiters(now: now)
    }

    /// Reads what is queued on the ROUTER, up to a fair share per wake-up.
    private func receiveFromWorkers() {
        let authenticated = shared.security != nil
        for _ in 0..<1_024 {
            let received: (frames: [ZMQFrame], userID: String?)?
            do { received = try router.receiveWithUserID(dontWait: true, readUserID: authenticated) } catch {
                logger.error("dispatcher: receive failed: \(error)")
                return
            }
            guard let received, let identity = received.frames.first else { return }
            if authenticated && !authorized(identity, userID: received.userID) { continue }
            handleWorkerMessage(identity, received.frames.dropFirst(), userID: received.userID)
        }
    }

    /// With keys: whether the key behind this message is still in the keyring. A removed key's worker is
    /// told DISCONNECT and dropped (its job queued again), so it is never given another job.
    private func authorized(_ identity: ZMQFrame, userID: String?) -> Bool {
        let key = Keyring.shortName(userID: userID)
        // A routing id belongs to the key that said READY with it: another key that takes over the id of a
        // dropped connection (ZMQ_ROUTING_ID) is refused, and the entry it aimed at is dropped.
        if let registered = registry[identity], registered.userID != userID {
            shared.deny(
                .init(endpoint: "workers", key: key, service: registered.service, reason: "routing id of another key"))
            detach(identity, reason: "key no longer authorized", notify: true)
            return false
        }
        guard shared.security?.keyring.identity(userID: userID) == nil else { return true }
        shared.deny(.init(endpoint: "workers", key: key, service: registry[identity]?.service, reason: "key no longer authorized"))
        detach(identity, reason: "key no longer authorized", notify: true)
        return false
    }

    /// After a reload that took access away: drops every worker whose key is gone or may no longer serve.
    func recheckWorkers() {
        guard let keyring = shared.security?.keyring else { return }
        for worker in Array(registry.workers.values) {
            let client = keyring.identity(userID: worker.userID)
            guard client?.mayServe(worker.service) != true else { continue }
            let reason = client == nil ? "key no longer authorized" : "service no longer in this key's services"
            // Named by the key, never by the name the worker gave itself in READY.
            let key = client?.label ?? Keyring.shortName(userID: worker.userID)
            shared.deny(.init(endpoint: "workers", key: key, service: worker.service, reason: reason))
            detach(worker.identity, reason: reason, notify: true)
        }
    }

    /// One worker message; anything outside the protocol gets DISCONNECT and drops the worker.
    private func handleWorkerMessage(_ identity: ZMQFrame, _ frames: ArraySlice<ZMQFrame>, userID: String?) {
        guard let (command, body) = Majordomo.parse(frames) else {
            return protocolError(identity, "not a 7/MDP worker message (MDPW01)")
        }
        let now = Timestamp.monotonicMillis()
        let known = registry[identity] != nil
        if known { registry.touch(identity, now: Timestamp.now(), expiresAt: now + settings.expiryMs) }
        switch command {
        case .ready:
            guard !known else { return protocolError(identity, "READY from a worker already registered") }
            guard let service = body.first, !service.isEmpty, service.count <= 256,
                let name = String(validating: service, as: UTF8.self)
            else { return protocolError(identity, "READY without a valid service name") }
            if let keyring = shared.security?.keyring, let client = keyring.identity(userID: userID),
                !client.mayServe(name)
            {
                // Refused, not a protocol error: DISCONNECT, never registered, so never given a job.
                shared.deny(
                    .init(endpoint: "workers", key: client.label, service: name, reason: "service not in this key's services"))
                return send(identity, .disconnect)
            }
            // A routing id the worker chose itself can be chosen again by another key once this connection drops,
            // and the ROUTER would hand that key the jobs still addressed to it. libzmq's own ids start with a zero
            // byte (a peer may not choose one) and are never reused, so a secured broker takes only those.
            if shared.security != nil, identity.first != 0 {
                let key = shared.security?.keyring.identity(userID: userID)?.label ?? Keyring.shortName(userID: userID)
                shared.deny(
                    .init(endpoint: "workers", key: key, service: name, reason: "routing id chosen by the worker"))
                return send(identity, .disconnect)
            }
            attach(identity, service: name, metadata: body.count > 1 ? body[1] : nil, userID: userID, now: now)
        case .reply:
            guard known else { return protocolError(identity, "REPLY from a worker that is not registered") }
            guard body.count == 3, body[1].isEmpty, let jobId = String(validating: body[0], as: UTF8.self) else {
                return protocolError(identity, "REPLY must be: jobId, empty frame, JSON body")
            }
            guard registry[identity]?.jobId == jobId else {
                return protocolError(identity, "REPLY for job '\(jobId)', which this worker does not hold")
            }
            guard let parsed = try? JSONParser.parse(body[2]), let reply = parsed.objectValue,
                let ok = reply["ok"]?.boolValue
            else { return protocolError(identity, "REPLY body is not JSON {ok, result | error}") }
            registry.release(identity)
            complete(jobId, ok: ok, reply: reply)
            dispatchQueued()
        case .heartbeat:
            if !known { send(identity, .disconnect) }  // a worker we forgot: it reconnects and says READY
        case .disconnect:
            if known { detach(identity, reason: "disconnect", notify: false) }
        case .request:
            protocolError(identity, "REQUEST is a broker-to-worker command")
        }
    }

    private func attach(_ identity: ZMQFrame, service: String, metadata: ZMQFrame?, userID: String?, now: Int64) {
        let id = WorkerEntry.id(for: identity)
        let name = metadata.flatMap { try? JSONParser.parse($0) }?["name"]?.stringValue ?? id
        registry.add(
            WorkerEntry(
                identity: identity, id: id, service: service, name: name, attachedAt: Timestamp.now(),
                lastSeenAt: Timestamp.now(), expiresAt: now + settings.expiryMs, jobId: nil, userID: userID))
        emit(
            Topic.workerAttached,
            JSONObject([("workerId", .string(id)), ("service", .string(service)), ("name", .string(name))]))
        logger.info("dispatcher: worker \(name) (\(id)) attached for '\(service)'")
        dispatchQueued()
    }

    private func protocolError(_ identity: ZMQFrame, _ problem: String) {
        logger.warning("dispatcher: worker \(WorkerEntry.id(for: identity)): \(problem); disconnecting it")
        detach(identity, reason: "protocol error", notify: true)
    }

    /// Drops a worker (telling it when `notify`), and puts back the job it held.
    func detach(_ identity: ZMQFrame, reason: String, notify: Bool) {
        if notify { send(identity, .disconnect) }
        guard let worker = registry.remove(identity) else { return }
        emit(
            Topic.workerDetached,
            JSONObject([
                ("workerId", .string(worker.id)), ("service", .string(worker.service)), ("name", .string(worker.name)),
                ("reason", .string(reason)),
            ]))
        logger.info("dispatcher: worker \(worker.name) (\(worker.id)) detached: \(reason)")
        if let jobId = worker.jobId { workerLost(jobId, worker: worker) }
    }

    func send(_ identity: ZMQFrame, _ command: Majordomo.Command, _ body: [ZMQFrame] = []) {
        do { try router.send([identity] + Majordomo.frames(command, body), dontWait: true) } catch {
            // The worker is gone or not reading; its heartbeats stop and it is dropped then.
            logger.debug("dispatcher: send to \(WorkerEntry.id(for: identity)) failed: \(error)")
        }
    }

    func reply(_ client: ClientReply, _ result: [UInt8]) {
        shared.outbox.post(.result(client.envelope, id: client.id, result))
    }

    /// Records and publishes an event through the writer (so it gets its sequence number).
    func emit(_ topic: String, _ fields: JSONObject) { shared.emit(topic, fields) }

    private func workerList() -> JSONObject {
        var services: [String: (workers: Int, idle: Int, queued: Int)] = [:]
        for worker in registry.workers.values {
            services[worker.service, default: (0, 0, 0)].workers += 1
            if worker.jobId == nil { services[worker.service, default: (0, 0, 0)].idle += 1 }
        }
        for (service, queue) in queues where !queue.isEmpty {
            services[service, default: (0, 0, 0)].queued += queue.count
        }
        let summary: [JSON] = services.keys.sorted().map { name in
            let figures = services[name]!
            return .object(
                JSONObject([
                    ("service", .string(name)), ("workers", .int(Int64(figures.workers))),
                    ("idle", .int(Int64(figures.idle))), ("queued", .int(Int64(figures.queued))),
                ]))
        }
        return JSONObject([("workers", .array(registry.all.map(\.json))), ("services", .array(summary))])
    }

    /// At shutdown: every waiter, and every wait still in the inbox, gets the job as it stands (later posts are
    /// refused, so the api thread answers them); workers are told to reconnect later.
    private func shutDown() {
        shared.dispatch.close()
        for message in shared.dispatch.drain() {
            switch message {
            case .wait(let jobId, _, let client): answer(client, jobId: jobId)
            case .listWorkers(let client): reply(client, JSON.object(workerList()).serialized)
            case .notices, .started, .finished, .restored, .keysChanged: break  // the next start reads the jobs from the database
            }
        }
        for (jobId, list) in waiters {
            for waiter in list { answer(waiter.client, jobId: jobId) }
        }
        waiters.removeAll()
        for identity in registry.workers.keys { send(identity, .disconnect) }
        router.close()
    }
}

/// Binds the workers endpoint and runs the dispatcher on its thread.
enum DispatcherStartup {
    static func run(
        shared: BrokerShared, context: ZMQContext, started: Latch<Result<String, BrokerStartError>>, logger: Logger
    ) {
        let dispatcher: Dispatcher
        let unfinished: [JobRecord]
        do {
            let reader = SessionReader(connection: try shared.database.openReader(), counter: shared.counter)
            unfinished = try reader.unfinishedJobs()
            let router = try ZMQSocket(context: context, type: .router)
            try router.setMaxMessageSize(shared.configuration.transportMaxMessageBytes)
            try router.setHighWaterMarks(send: 10_000, receive: 10_000)
            let endpoint = try BindError.bind(
                router, shared.configuration.workersEndpoint, role: "workers", security: shared.security)
            dispatcher = Dispatcher(router: router, shared: shared, logger: logger)
            started.set(.success(endpoint))
        } catch let error as BrokerStartError {
            return started.set(.failure(error))
        } catch {
            return started.set(.failure(BrokerStartError(message: "cannot start the workers socket: \(error)")))
        }
        dispatcher.run(unfinished: unfinished)
    }
}
