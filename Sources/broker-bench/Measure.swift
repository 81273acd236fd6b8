import BrokerProtocol
import BrokerServer
import Threading
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Latency samples in microseconds and their summary line.
struct Latencies {
    var samples: [Double]

    var p50: Double { percentile(0.50) }
    var p99: Double { percentile(0.99) }

    func percentile(_ fraction: Double) -> Double {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }

    func line(_ title: String, floor: Double) -> String {
        "\(title): p50 \(format(p50)) us, p99 \(format(p99)) us, n=\(samples.count), p50 = \(format(p50 / floor))x floor"
    }
}

func format(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return String(rounded)
}

func nowMicros() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) * 1_000_000 + Double(spec.tv_nsec) / 1_000
}

/// A bare libzmq REQ/REP echo over tcp loopback with a request frame the size of an addMessage.
func measureEchoFloor(context: ZMQContext, roundTrips: Int) throws -> Latencies {
    let bound = Latch<String>()
    let server = NamedThread(name: "echo") {
        do {
            let rep = try ZMQSocket(context: context, type: .rep)
            bound.set(try rep.bind("tcp://127.0.0.1:*"))
            while let frames = try rep.receive() {
                if frames.first == Array("stop".utf8) { try rep.send(frames); break }
                try rep.send(frames)
            }
        } catch {
            bound.set("")
        }
    }
    let req = try ZMQSocket(context: context, type: .req)
    try req.connect(bound.wait())
    let frame = addMessageFrame(sessionId: "ses_benchmarkbenchmark00", index: 0)
    var samples: [Double] = []
    samples.reserveCapacity(roundTrips)
    for index in 0..<(roundTrips + 500) {
        let start = nowMicros()
        try req.send([frame])
        _ = try req.receive()
        if index >= 500 { samples.append(nowMicros() - start) }  // the first 500 warm up
    }
    try req.send([Array("stop".utf8)])
    _ = try req.receive()
    server.join()
    return Latencies(samples: samples)
}

/// A typical agent message: about 300 bytes of prose.
let sampleContent = String(
    repeating: "The dev agent applied the patch, ran the checks and found one failing test in the parser. ", count: 3)

func addMessageFrame(sessionId: String, index: Int, messageId: String? = nil) -> [UInt8] {
    var params: JSONObject = [
        "sessionId": .string(sessionId), "role": "assistant", "content": .string(sampleContent),
    ]
    if let messageId { params["messageId"] = .string(messageId) }
    return RPCRequest(id: .int(Int64(index)), method: "session:addMessage", params: params).frame
}

/// The floor for throughput: a ROUTER that echoes every request at once (no parsing, no storage),
/// driven by `clients` REQ clients exactly as the addMessage throughput test drives the broker.
func measureEchoThroughput(clients: Int, messagesPerClient: Int) throws -> String {
    let context = try ZMQContext(ioThreads: 1)
    let bound = Latch<String>()
    let stop = Latch<Bool>()
    let server = NamedThread(name: "echo-router") {
        do {
            let router = try ZMQSocket(context: context, type: .router)
            bound.set(try router.bind("tcp://127.0.0.1:*"))
            try router.setReceiveTimeout(milliseconds: 100)
            while stop.current == nil {
                guard let frames = try router.receive() else { continue }
                try router.send(frames)
            }
        } catch {
            bound.set("")
        }
    }
    let endpoint = bound.wait()
    let rate = try runClients(clients: clients, messagesPerClient: messagesPerClient) { client, req in
        try req.connect(endpoint)
        return (0..<messagesPerClient).map { addMessageFrame(sessionId: "ses_echo\(client)", index: $0) }
    }
    stop.set(true)
    server.join()
    return "floor throughput: bare ROUTER echo, \(clients) clients: \(Int(rate)) messages/s"
}
