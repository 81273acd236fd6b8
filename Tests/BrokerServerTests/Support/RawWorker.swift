import BrokerProtocol
import Foundation
import ZeroMQ

/// A 7/MDP worker made of a bare DEALER socket, so tests control every frame (and every silence).
final class RawWorker {
    let socket: ZMQSocket

    /// Connects to the broker's workers endpoint and, when `service` is given, says READY.
    convenience init(
        _ broker: TestBroker, service: String?, name: String = "raw", curve: CurveClientKeys? = nil,
        routingID: [UInt8]? = nil
    ) throws {
        try self.init(
            endpoint: broker.endpoints.workers, context: broker.context, service: service, name: name, curve: curve,
            routingID: routingID)
    }

    init(
        endpoint: String, context: ZMQContext, service: String?, name: String = "raw", curve: CurveClientKeys? = nil,
        routingID: [UInt8]? = nil
    ) throws {
        socket = try ZMQSocket(context: context, type: .dealer)
        try socket.secure(curve)
        if let routingID { try socket.setRoutingID(routingID) }
        try socket.connect(endpoint)
        if let service {
            try send(.ready, [Array(service.utf8), JSON.object(["name": .string(name)]).serialized])
        }
    }

    deinit { socket.close() }

    func send(_ command: Majordomo.Command, _ body: [ZMQFrame] = []) throws {
        try socket.send(Majordomo.frames(command, body))
    }

    /// The next message that is not a HEARTBEAT, heartbeating meanwhile so the broker keeps this worker.
    func next(timeoutMs: Int = 5_000) throws -> (Majordomo.Command, [ZMQFrame])? {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            try socket.setReceiveTimeout(milliseconds: 50)
            if let frames = try socket.receive() {
                guard let (command, body) = Majordomo.parse(frames[...]) else { continue }
                if command != .heartbeat { return (command, body) }
            }
            try send(.heartbeat)
        }
        return nil
    }

    /// The next REQUEST: its job id frame and JSON body.
    func nextRequest(timeoutMs: Int = 5_000) throws -> (jobId: String, body: JSONObject)? {
        guard let (command, body) = try next(timeoutMs: timeoutMs), command == .request, body.count == 3 else {
            return nil
        }
        return (String(decoding: body[0], as: UTF8.self), try JSONParser.parse(body[2]).objectValue ?? [:])
    }

    func reply(_ jobId: String, result: JSON) throws {
        try send(.reply, [Array(jobId.utf8), [], JSON.object(["ok": true, "result": result]).serialized])
    }

    /// Heartbeats for `milliseconds`, so the broker keeps this worker while the test waits for something else.
    func stayAlive(milliseconds: Int) throws {
        _ = try next(timeoutMs: milliseconds)
    }
}

extension TestBroker {
    /// Waits until `worker:list` shows `count` workers for `service`.
    func waitForWorkers(_ service: String, count: Int, timeoutMs: Int = 5_000) throws {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            let services = try call("worker:list")["services"]?.arrayValue ?? []
            let attached = services.first { $0["service"]?.stringValue == service }?["workers"]?.intValue ?? 0
            if attached == count { return }
            usleep(20_000)
        }
        throw TestFailure("\(service): \(count) workers did not attach within \(timeoutMs) ms")
    }

    /// `job:wait` until the job ends (or the test's patience does).
    func waitForJob(_ jobId: String, timeoutMs: Int64 = 10_000) throws -> JSONObject {
        let job = try client(timeoutMs: Int(timeoutMs) + 5_000).call(
            "job:wait", ["jobId": .string(jobId), "timeoutMs": .int(timeoutMs)])
        return job.objectValue ?? [:]
    }

    /// Persisted events whose topic starts with `prefix`.
    func events(_ prefix: String) throws -> [JSONObject] {
        let page = try call("events:since", ["seq": 0, "topic": .string(prefix), "limit": 1_000])
        return (page["events"]?.arrayValue ?? []).compactMap(\.objectValue)
    }
}
