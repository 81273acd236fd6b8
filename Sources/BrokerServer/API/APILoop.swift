import BrokerProtocol
import Logging
import SessionCore
import ZeroMQ

/// The API thread: owns the ROUTER socket, parses and routes requests, sends every reply.
///
/// Requests are validated here; writes go to the writer thread, reads to the
/// reader threads, and their replies come back through the `Outbox`, whose
/// eventfd wakes this thread's `zmq_poll`. Only this thread touches the ROUTER.
///
/// A read never overtakes a write received before it (a DEALER that pipelines
/// addMessage then getMessages sees its message): while writes are
/// outstanding, later reads are held until the writer has answered them.
final class APILoop {
    let router: ZMQSocket
    let shared: BrokerShared
    let logger: Logger
    /// Requests dispatched and not yet answered (including held reads); shutdown waits for zero.
    var inFlight = 0
    var writesSubmitted = 0
    var writesAnswered = 0
    /// Reads waiting for the writes received before them: (writes that must be answered first, job).
    var heldReads: [(after: Int, job: ReadJob)] = []
    /// `job:wait` and `worker:list` held the same way, so a pipelined submit-then-wait finds its job.
    var heldDispatches: [(after: Int, message: DispatchMessage, client: ClientReply)] = []
    var counters = RequestCounters()

    init(router: ZMQSocket, shared: BrokerShared, logger: Logger) {
        self.router = router
        self.shared = shared
        self.logger = logger
    }

    func run() {
        var poller = ZMQPoller()
        poller.add(router)
        poller.add(fileDescriptor: shared.outbox.wakeup.fileDescriptor)
        var drainPoller = ZMQPoller()
        drainPoller.add(fileDescriptor: shared.outbox.wakeup.fileDescriptor)
        var stopDeadline: Int64?
        while true {
            let stopping = shared.stopRequested.current != nil
            if stopping && stopDeadline == nil {
                stopDeadline = Timestamp.monotonicMillis() + 10_000
                logger.info("api: not taking new requests; waiting for \(inFlight) in flight")
            }
            if let deadline = stopDeadline, inFlight == 0 || Timestamp.monotonicMillis() > deadline { break }
            let ready: [Int]
            do {
                // While stopping, the ROUTER is no longer polled: only replies in flight are sent.
                ready = stopping ? try drainPoller.poll(timeoutMs: 100).map { _ in 1 } : try poller.poll(timeoutMs: -1)
            } catch {
                logger.error("api: poll failed: \(error)")
                break
            }
            if ready.contains(1) || stopping {
                shared.outbox.wakeup.reset()
                sendReplies(shared.outbox.drain())
            }
            if !stopping && ready.contains(0) { receiveRequests() }
        }
        router.close()
    }

    /// Reads what is queued on the ROUTER (one POLLIN can stand for many messages), up to a fair share.
    private func receiveRequests() {
        let authenticated = shared.security != nil
        for _ in 0..<1_024 {
            let received: (frames: [ZMQFrame], userID: String?)?
            do { received = try router.receiveWithUserID(dontWait: true, readUserID: authenticated) } catch {
                logger.error("api: receive failed: \(error)")
                return
            }
            guard let received else { return }
            handle(received.frames, userID: received.userID)
        }
    }

    private func sendReplies(_ replies: [Outgoing]) {
        for reply in replies {
            inFlight -= 1
            if reply.isWrite { writesAnswered += 1 }
            send(reply)
        }
        releaseHeldReads()
    }

    /// Hands on every held read (to the readers) and held wait (to the dispatcher) whose earlier writes are answered.
    private func releaseHeldReads() {
        let dispatchable = heldDispatches.prefix { $0.after <= writesAnswered }
        for held in dispatchable where !shared.dispatch.post(held.message) {
            inFlight -= 1
            send(
                .error(held.client.envelope, id: held.client.id, RPCError(.unavailable, "the broker is shutting down")))
        }
        heldDispatches.removeFirst(dispatchable.count)
        guard !heldReads.isEmpty else { return }
        let ready = heldReads.prefix { $0.after <= writesAnswered }
        for held in ready where !shared.readQueue.push(held.job) {
            inFlight -= 1
            send(.error(held.job.envelope, id: held.job.id, RPCError(.unavailable, "the broker is shutting down")))
        }
        heldReads.removeFirst(ready.count)
    }

    func send(_ reply: Outgoing) {
        counters.record(reply.errorKind)
        do {
            try router.send(reply.envelope + [reply.body] + (reply.data.map { [$0] } ?? []), dontWait: true)
        } catch {
            // The client left (EHOSTUNREACH) or stopped reading (EAGAIN at its high-water mark):
            // its reply is dropped rather than letting one client stall the broker.
            counters.dropped += 1
            logger.debug("api: reply dropped: \(error)")
        }
    }
}

/// Figures for `broker:stats`, kept by the API thread.
struct RequestCounters {
    var served: Int64 = 0
    var dropped: Int64 = 0
    var errors: [ErrorKind: Int64] = [:]

    mutating func record(_ kind: ErrorKind?) {
        served += 1
        if let kind { errors[kind, default: 0] += 1 }
    }

    var json: JSONObject {
        var byKind = JSONObject()
        for kind in ErrorKind.allCases { byKind[kind.rawValue] = .int(errors[kind] ?? 0) }
        return JSONObject([
            ("requestsServed", .int(served)), ("repliesDropped", .int(dropped)), ("errors", .object(byKind)),
        ])
    }
}
