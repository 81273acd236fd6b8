import BrokerProtocol
import Foundation
import Synchronization
import ZeroMQ

/// A job as a worker receives it in a REQUEST.
public struct WorkerJob: Sendable {
    public let jobId: String
    public let service: String
    public let payload: JSON
    public let attempt: Int64
    public let maxAttempts: Int64
}

/// What a job handler produced: a result for `job:get`, or an error that fails the job.
public enum WorkerOutcome: Sendable {
    case success(JSON)
    case failure(String)
}

/// Settings of a worker's connection to the broker's workers endpoint.
public struct WorkerSettings: Sendable {
    public var endpoint: String
    public var service: String
    public var name: String
    /// How often HEARTBEAT is sent; should match the broker's `dispatch.heartbeatMs`.
    public var heartbeatMs: Int64 = 2_500
    /// Heartbeat intervals of silence after which the broker counts as lost.
    public var liveness: Int64 = 3
    /// First and longest wait before reconnecting to a lost broker.
    public var reconnectInitialMs: Int64 = 250
    public var reconnectMaxMs: Int64 = 5_000
    /// CURVE keys for a broker that requires them; nil speaks plain ZeroMQ.
    public var curve: CurveClientKeys?

    public init(endpoint: String, service: String, name: String) {
        self.endpoint = endpoint
        self.service = service
        self.name = name
    }
}

/// The worker side of the 7/MDP dialog (Protocols/AGENTBROKER-WORKERS.md).
///
/// `run` owns the DEALER socket on the calling thread: it says READY, sends
/// HEARTBEAT while idle and while a job runs (the handler runs on a thread of
/// its own), answers each REQUEST with a REPLY, and reconnects with back-off
/// when the broker goes quiet or says DISCONNECT. It returns once `stop` is
/// signalled, after telling the broker DISCONNECT.
public final class WorkerRuntime {
    public let settings: WorkerSettings
    private let context: ZMQContext
    private let log: @Sendable (String) -> Void
    private let finished = FinishedJobs()
    private var socket: ZMQSocket?
    /// Bumped at each reconnect: a result computed for an older connection is dropped (the broker re-queued it).
    private var generation = 0
    private var busy = false
    private var sendFailureLogged = false

    public init(settings: WorkerSettings, context: ZMQContext, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.context = context
        self.log = log
    }

    /// Serves jobs with `handler` until `stop` is signalled. Throws only if no socket can be made at all.
    public func run(stop: Wakeup, handler: @escaping @Sendable (WorkerJob) -> WorkerOutcome) throws(ZMQError) {
        var backoff = settings.reconnectInitialMs
        try connect()
        var brokerDeadline = now() + settings.heartbeatMs * settings.liveness
        var nextHeartbeat = now() + settings.heartbeatMs
        // Whether the broker has said anything on this connection yet.
        var heard = false
        while true {
            guard let socket else { break }
            var poller = ZMQPoller()
            poller.add(socket)
            poller.add(fileDescriptor: finished.wakeup.fileDescriptor)
            poller.add(fileDescriptor: stop.fileDescriptor)
            let ready = try poller.poll(timeoutMs: Int(max(0, min(nextHeartbeat, brokerDeadline) - now())))
            if ready.contains(2) {
                send(.disconnect)
                socket.close()
                return
            }
            if ready.contains(1) { sendFinished() }
            if ready.contains(0) {
                while let frames = try socket.receive(dontWait: true) {
                    brokerDeadline = now() + settings.heartbeatMs * settings.liveness
                    if handle(frames, handler: handler) == .reconnect {
                        // Straight after READY, DISCONNECT is a refusal: back off instead of asking again at once.
                        log(
                            "the broker said DISCONNECT; reconnecting"
                                + (heard ? "" : " (right after READY: this key may not serve '\(settings.service)')"))
                        heard = true  // the broker knows the key; the "no answer" hint would mislead
                        brokerDeadline = 0
                        break
                    }
                    backoff = settings.reconnectInitialMs
                    heard = true
                }
            }
            if now() >= nextHeartbeat {
                send(.heartbeat)
                nextHeartbeat = now() + settings.heartbeatMs
            }
            if now() >= brokerDeadline {
                let hint =
                    settings.curve != nil && !heard
                    ? " (no answer: the broker may not know this key, or the server key is wrong)" : ""
                log("no word from the broker at \(settings.endpoint)\(hint); reconnecting in \(backoff) ms")
                socket.close()
                self.socket = nil
                generation += 1
                busy = false
                var pause = ZMQPoller()
                pause.add(fileDescriptor: stop.fileDescriptor)
                if !(try pause.poll(timeoutMs: Int(backoff))).isEmpty { return }
                backoff = min(backoff * 2, settings.reconnectMaxMs)
                try connect()
                heard = false
                brokerDeadline = now() + settings.heartbeatMs * settings.liveness
                nextHeartbeat = now() + settings.heartbeatMs
            }
        }
    }

    private enum Handled { case ok, reconnect }

    private func handle(_ frames: [ZMQFrame], handler: @escaping @Sendable (WorkerJob) -> WorkerOutcome) -> Handled {
        guard let (command, body) = Majordomo.parse(frames[...]) else {
            log("ignored a message that is not 7/MDP")
            return .ok
        }
        switch command {
        case .request:
            guard body.count == 3, let job = Self.decodeJob(body[2]) else {
                log("ignored a malformed REQUEST")
                return .ok
            }
            guard !busy else {
                log("ignored REQUEST for \(job.jobId): still busy")
                return .ok
            }
            busy = true
            let generation = self.generation
            let finished = self.finished
            let thread = Thread {
                let outcome = handler(job)
                finished.add(generation: generation, jobId: job.jobId, outcome: outcome)
            }
            thread.name = "job-\(job.service)"
            thread.start()
        case .disconnect:
            return .reconnect
        case .heartbeat, .ready, .reply:
            break
        }
        return .ok
    }

    private func sendFinished() {
        finished.wakeup.reset()
        for done in finished.takeAll() where done.generation == generation {
            let body: JSONObject
            switch done.outcome {
            case .success(let result): body = JSONObject([("ok", .bool(true)), ("result", result)])
            case .failure(let error): body = JSONObject([("ok", .bool(false)), ("error", .string(error))])
            }
            send(.reply, [Array(done.jobId.utf8), [], JSON.object(body).serialized])
            busy = false
        }
    }

    static func decodeJob(_ body: [UInt8]) -> WorkerJob? {
        guard let object = (try? JSONParser.parse(body))?.objectValue, let jobId = object["jobId"]?.stringValue,
            let service = object["service"]?.stringValue
        else { return nil }
        return WorkerJob(
            jobId: jobId, service: service, payload: object["payload"] ?? .null,
            attempt: object["attempt"]?.intValue ?? 1, maxAttempts: object["maxAttempts"]?.intValue ?? 1)
    }

    private func connect() throws(ZMQError) {
        let socket = try ZMQSocket(context: context, type: .dealer)
        try socket.secure(settings.curve)
        try socket.connect(settings.endpoint)
        self.socket = socket
        sendFailureLogged = false
        let metadata = JSONObject([
            ("name", .string(settings.name)), ("pid", .int(Int64(getpid()))),
            ("host", .string(ProcessInfo.processInfo.hostName)),
        ])
        send(.ready, [Array(settings.service.utf8), JSON.object(metadata).serialized])
    }

    private func send(_ command: Majordomo.Command, _ body: [ZMQFrame] = []) {
        do { try socket?.send(Majordomo.frames(command, body), dontWait: true) } catch {
            // Until a connection is made (a refused handshake), every heartbeat fails the same way: say it once.
            guard !sendFailureLogged else { return }
            sendFailureLogged = true
            log("send failed: \(error) (not connected; further failures on this connection are not logged)")
        }
    }

    private func now() -> Int64 { monotonicMillis() }
}

/// Results handed from job threads to the socket thread.
final class FinishedJobs: Sendable {
    struct Done: Sendable {
        var generation: Int
        var jobId: String
        var outcome: WorkerOutcome
    }

    let wakeup = Wakeup()
    private let items = Mutex<[Done]>([])

    func add(generation: Int, jobId: String, outcome: WorkerOutcome) {
        items.withLock { $0.append(Done(generation: generation, jobId: jobId, outcome: outcome)) }
        wakeup.signal()
    }

    func takeAll() -> [Done] {
        items.withLock { items in
            defer { items.removeAll() }
            return items
        }
    }
}
