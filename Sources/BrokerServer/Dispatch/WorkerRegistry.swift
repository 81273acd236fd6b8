import BrokerProtocol
import SessionCore
import ZeroMQ

/// An attached worker, keyed by its ROUTER routing id.
struct WorkerEntry {
    let identity: ZMQFrame
    /// `w-` and the routing id in hex: how events and jobs name the worker.
    let id: String
    let service: String
    let name: String
    let attachedAt: EpochMillis
    var lastSeenAt: EpochMillis
    /// Monotonic time after which the worker counts as lost.
    var expiresAt: Int64
    var jobId: String?
    /// The worker's key (ZAP user id) on a broker with keys, checked again after a reload.
    var userID: String? = nil

    var json: JSON {
        .object(
            JSONObject([
                ("workerId", .string(id)), ("service", .string(service)), ("name", .string(name)),
                ("state", .string(jobId == nil ? "idle" : "busy")), ("jobId", jobId.map(JSON.string) ?? .null),
                ("attachedAt", .string(Timestamp.iso8601(attachedAt))),
                ("lastSeenAt", .string(Timestamp.iso8601(lastSeenAt))),
            ]))
    }

    static func id(for identity: ZMQFrame) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = Array("w-".utf8)
        for byte in identity {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The workers attached now, and for each service its idle ones, least recently used first.
struct WorkerRegistry {
    private(set) var workers: [ZMQFrame: WorkerEntry] = [:]
    private var idle: [String: [ZMQFrame]] = [:]

    subscript(identity: ZMQFrame) -> WorkerEntry? { workers[identity] }

    mutating func add(_ worker: WorkerEntry) {
        workers[worker.identity] = worker
        idle[worker.service, default: []].append(worker.identity)
    }

    /// Forgets a worker; returns it (with the job it held) if it was attached.
    mutating func remove(_ identity: ZMQFrame) -> WorkerEntry? {
        guard let worker = workers.removeValue(forKey: identity) else { return nil }
        idle[worker.service]?.removeAll { $0 == identity }
        return worker
    }

    /// Any message from a worker shows it is alive.
    mutating func touch(_ identity: ZMQFrame, now: EpochMillis, expiresAt: Int64) {
        workers[identity]?.lastSeenAt = now
        workers[identity]?.expiresAt = expiresAt
    }

    /// Takes the least recently used idle worker of `service` and marks it busy with `jobId`.
    mutating func takeIdle(service: String, for jobId: String) -> WorkerEntry? {
        guard var list = idle[service], !list.isEmpty else { return nil }
        let identity = list.removeFirst()
        idle[service] = list
        workers[identity]?.jobId = jobId
        return workers[identity]
    }

    /// A busy worker is done: it goes to the back of its service's idle line.
    mutating func release(_ identity: ZMQFrame) {
        guard var worker = workers[identity], worker.jobId != nil else { return }
        worker.jobId = nil
        workers[identity] = worker
        idle[worker.service, default: []].append(identity)
    }

    func hasIdle(_ service: String) -> Bool { !(idle[service]?.isEmpty ?? true) }

    /// Workers whose heartbeats stopped.
    func expired(at now: Int64) -> [ZMQFrame] {
        workers.values.filter { $0.expiresAt <= now }.map(\.identity)
    }

    var all: [WorkerEntry] {
        workers.values.sorted { ($0.service, $0.attachedAt, $0.id) < ($1.service, $1.attachedAt, $1.id) }
    }
}
