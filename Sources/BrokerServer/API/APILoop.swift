import BrokerProtocol
import Logging
import SessionCore
import ZeroMQ

/// The loop thread: owns the ROUTER, the PUB socket and the writer connection.
///
/// Each pass drains what the ROUTER holds: requests are validated here,
/// writes are collected and group-committed at the end of the pass, reads go
/// to the reader threads, whose replies come back through the `Outbox` and
/// its eventfd, which wakes this thread's `zmq_poll`.
final class APILoop {
    let router: ZMQSocket
    let committer: WriteCommitter
    let shared: BrokerShared
    let logger: Logger
    /// Reads dispatched and not yet answered; shutdown waits for zero.
    var inFlight = 0
    /// Writes received in this pass, committed together at its end.
    var pendingWrites: [WriteJob] = []
    var counters = RequestCounters()

    init(router: ZMQSocket, committer: WriteCommitter, shared: BrokerShared, logger: Logger) {
        self.router = router
        self.committer = committer
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
        committer.close()
    }

    /// Reads what is queued on the ROUTER (one POLLIN can stand for many messages), up to a fair share.
    private func receiveRequests() {
        defer { commitWrites() }
        for _ in 0..<WriteCommitter.maxBatch {
            let frames: [ZMQFrame]?
            do { frames = try router.receive(dontWait: true) } catch {
                logger.error("api: receive failed: \(error)")
                return
            }
            guard let frames else { return }
            handle(frames)
        }
    }

    private func commitWrites() {
        guard !pendingWrites.isEmpty else { return }
        let replies = committer.commit(pendingWrites)
        pendingWrites.removeAll(keepingCapacity: true)
        for reply in replies { send(reply) }
    }

    private func sendReplies(_ replies: [Outgoing]) {
        for reply in replies {
            inFlight -= 1
            send(reply)
        }
    }

    func send(_ reply: Outgoing) {
        counters.record(reply.errorKind)
        do {
            try router.send(reply.envelope + [reply.body], dontWait: true)
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
