import BrokerProtocol
import Logging
import SQLite
import SessionCore
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The writer thread: group-commits every write queued meanwhile, publishes its events, posts its replies.
///
/// Replies leave only after COMMIT returns (DESIGN.md rule 2). Writes that
/// arrive during a commit queue up and form the next, larger batch, so one
/// transaction (and one sync with `--sync full`) serves many clients. It owns
/// the PUB socket because an event exists only once its transaction commits.
final class WriteCommitter {
    let writer: SessionWriter
    let connection: Connection
    private(set) var publisher: ZMQSocket
    /// The events endpoint as bound (a `*` port resolved), for rebinding after a key reload.
    let eventsEndpoint: String
    let context: ZMQContext
    /// The security's publisher generation this socket was bound under.
    private var publisherGeneration = 0
    let logger: Logger
    /// Writes per transaction at most, so one huge backlog does not delay its first replies.
    static let maxBatch = 2_048
    /// WAL frames (4 KiB pages) past which the writer finishes the checkpoint itself.
    static let walRestartFrames = 4_096

    init(
        connection: Connection, writer: SessionWriter, publisher: ZMQSocket, eventsEndpoint: String,
        context: ZMQContext, logger: Logger
    ) {
        self.connection = connection
        self.writer = writer
        self.publisher = publisher
        self.eventsEndpoint = eventsEndpoint
        self.context = context
        self.logger = logger
    }

    /// Commits batches until the queue is closed and drained, then checkpoints and closes.
    func run(shared: BrokerShared) {
        while true {
            let batch = shared.writeQueue.popBatch(max: Self.maxBatch)
            if batch.isEmpty { break }
            var replies: [Outgoing] = []
            var start = 0
            // An import runs in a transaction of its own, between the writes queued before and after it.
            for (index, job) in batch.enumerated() {
                guard case .importFile(let plan) = job.command else { continue }
                replies += commit(Array(batch[start..<index]), shared: shared)
                runImport(plan, job, shared: shared)
                start = index + 1
            }
            replies += commit(start == 0 ? batch : Array(batch[start...]), shared: shared)
            if connection.walFrames >= Self.walRestartFrames { restartWAL() }
            shared.commits.add(1, ordering: .relaxed)
            shared.committedWrites.add(batch.count, ordering: .relaxed)
            if !replies.isEmpty { shared.outbox.post(replies) }
            if let security = shared.security {
                let generation = security.publisherGeneration.load(ordering: .acquiring)
                if generation != publisherGeneration && rebindPublisher(shared: shared, security: security) {
                    publisherGeneration = generation
                }
            }
        }
        close()
    }

    /// Closes the events socket and binds a new one at the same endpoint, after a key reload took access away.
    ///
    /// A PUB socket cannot drop one subscriber, and ZAP checks a key only at the handshake, so every
    /// subscriber is disconnected: libzmq reconnects each by itself (ZMQ_RECONNECT_IVL), the ZAP handler
    /// sees its key again, and a removed key gets no further event. Events published in between are missed
    /// and replayed with `events:since`, as after any PUB loss.
    /// Returns whether the new socket is bound. On failure (another process took the port in the moment it was
    /// free) nothing is published until a later commit binds it: each commit tries again, and says so.
    private func rebindPublisher(shared: BrokerShared, security: BrokerSecurity) -> Bool {
        publisher.close()
        do {
            (publisher, _) = try EventsSocket.bind(context: context, endpoint: eventsEndpoint, security: security)
            logger.notice("auth: events endpoint rebound; subscribers handshake again")
            return true
        } catch {
            logger.error("auth: cannot rebind the events endpoint \(eventsEndpoint) (tried again at the next commit): \(error)")
            return false
        }
    }

    /// Lets the WAL start over from its beginning instead of growing without bound.
    ///
    /// The checkpointer thread copies frames into the database in the
    /// background, but under steady writes it never catches up with the last
    /// ones, and SQLite restarts the WAL only after a checkpoint that copied
    /// every frame. Here, between two transactions, only the few frames since
    /// its last pass are left to copy; the next commit then writes from the
    /// WAL's start, over pages the kernel already holds.
    private func restartWAL() {
        connection.resetAll()
        do {
            let (frames, copied) = try connection.checkpoint()
            if frames != copied { logger.debug("writer: WAL not restarted yet (\(copied)/\(frames) frames copied)") }
        } catch {
            logger.warning("writer: checkpoint failed: \(error)")
        }
    }

    /// Commits `batch` and returns one reply per client job, in order; the broker's own jobs get their callbacks.
    func commit(_ batch: [WriteJob], shared: BrokerShared) -> [Outgoing] {
        guard !batch.isEmpty else { return [] }
        var replies: [Outgoing] = []
        replies.reserveCapacity(batch.count)
        var callbacks: [(@Sendable (Result<[UInt8], RPCError>) -> Void, Result<[UInt8], RPCError>)] = []
        do {
            try writer.beginBatch()
            for job in batch {
                let result = try writer.apply(job.command)
                if let onCommit = job.onCommit {
                    callbacks.append((onCommit, result))
                } else {
                    var reply = Outgoing.from(result, job.envelope, id: job.id)
                    reply.isWrite = true
                    replies.append(reply)
                }
            }
            let events = try writer.commitBatch()
            publish(events)
            // Before the replies go out, so a client's next call (job:wait) finds the job known.
            let notices = writer.takeJobNotices()
            if !notices.isEmpty { shared.dispatch.post(.notices(notices)) }
            for sessionId in writer.takeCompactionCandidates() { shared.compactions.requestAuto(sessionId) }
            for (callback, result) in callbacks { callback(result) }
            return replies
        } catch {
            // Nothing of this batch is on disk: every write in it fails, none is half-done.
            writer.rollbackBatch()
            logger.error("writer: transaction failed, \(batch.count) writes rolled back: \(error)")
            let kind: ErrorKind = error.isDiskFull || error.isBusy ? .unavailable : .internal
            let failure = RPCError(kind, "the write was not stored: \(error.message)")
            var replies: [Outgoing] = []
            for job in batch {
                if let onCommit = job.onCommit {
                    onCommit(.failure(failure))
                } else {
                    var reply = Outgoing.error(job.envelope, id: job.id, failure)
                    reply.isWrite = true
                    replies.append(reply)
                }
            }
            return replies
        }
    }

    /// Writes a validated import, publishes `broker:imported`, and has the dispatcher queue the jobs it restored.
    private func runImport(_ plan: ImportPlan, _ job: WriteJob, shared: BrokerShared) {
        let started = Timestamp.monotonicMillis()
        let outcome = writer.runImport(plan)
        publish(writer.takeImportEvents())
        let result: Result<[UInt8], RPCError>
        switch outcome {
        case .success(let summary):
            if plan.clear || !summary.unfinishedJobs.isEmpty {
                shared.dispatch.post(.restored(summary.unfinishedJobs, replacing: plan.clear))
            }
            var json = summary.json(kind: plan.kind)
            json["durationMs"] = .int(Timestamp.monotonicMillis() - started)
            result = .success(JSON.object(json).serialized)
            logger.notice(
                "writer: imported a \(plan.kind.rawValue) file in \(Timestamp.monotonicMillis() - started) ms")
        case .failure(let error):
            result = .failure(error)
        }
        if let onCommit = job.onCommit {
            onCommit(result)
        } else {
            shared.outbox.post(Outgoing.from(result, job.envelope, id: job.id))
        }
    }

    private func publish(_ events: [Event]) {
        for event in events {
            do {
                try publisher.send([Array(event.topic.utf8), event.body], dontWait: true)
            } catch {
                // PUB never blocks; a send error here only means no subscriber could take it.
                logger.debug("writer: event \(event.seq) not published: \(error)")
            }
        }
    }

    /// Copies the whole WAL into the database and closes the event socket (at shutdown).
    func close() {
        do {
            connection.resetAll()
            try connection.checkpoint(.truncate)
        } catch {
            logger.warning("writer: final WAL checkpoint failed: \(error)")
        }
        publisher.close()
    }
}
