import BrokerProtocol
import BrokerServer
import SessionCore
import Threading
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// One call on a REQ socket, returning the result or stopping the benchmark on an error.
func call(_ socket: ZMQSocket, _ method: String, _ params: JSONObject) throws -> JSON {
    try socket.send([RPCRequest(id: 1, method: method, params: params).frame])
    guard let frames = try socket.receive(), let body = frames.last else { fatalError("no reply to \(method)") }
    switch RPCReply.parse(frame: body) {
    case .result(_, let result): return result
    case .error(_, let error): fatalError("\(method) failed: \(error)")
    }
}

func createSession(_ socket: ZMQSocket, feature: String) throws -> String {
    try call(socket, "session:create", ["type": "dev", "featureId": .string(feature)])["sessionId"]!.stringValue!
}

func measureAddMessageLatency(context: ZMQContext, api: String, roundTrips: Int, curve: CurveClientKeys? = nil)
    throws -> Latencies
{
    let req = try ZMQSocket(context: context, type: .req)
    try req.secure(curve)
    try req.connect(api)
    let session = try createSession(req, feature: "latency")
    let frames = (0..<(roundTrips + 500)).map { addMessageFrame(sessionId: session, index: $0) }
    var samples: [Double] = []
    samples.reserveCapacity(roundTrips)
    for (index, frame) in frames.enumerated() {
        let start = nowMicros()
        try req.send([frame])
        _ = try req.receive()
        if index >= 500 { samples.append(nowMicros() - start) }
    }
    return Latencies(samples: samples)
}

/// `clients` threads, each with its own REQ socket and session, adding messages as fast as replies come.
func measureAddMessageThroughput(
    api: String, clients: Int, messagesPerClient: Int, floor: Double, curve: CurveClientKeys? = nil
) throws -> String {
    try addMessageThroughput(
        api: api, clients: clients, messagesPerClient: messagesPerClient, floor: floor, curve: curve
    ).line
}

/// `clients` REQ clients adding messages as fast as replies come: the rate, and the line that reports it.
func addMessageThroughput(
    api: String, clients: Int, messagesPerClient: Int, floor: Double, curve: CurveClientKeys? = nil
) throws -> (rate: Double, line: String) {
    let statsContext = try ZMQContext()
    let statsSocket = try ZMQSocket(context: statsContext, type: .req)
    try statsSocket.secure(curve)
    try statsSocket.connect(api)
    let before = try call(statsSocket, "broker:stats", [:])
    let rate = try runClients(clients: clients, messagesPerClient: messagesPerClient) { _, req in
        try req.secure(curve)
        try req.connect(api)
        let session = try createSession(req, feature: "throughput")
        return (0..<messagesPerClient).map {
            addMessageFrame(sessionId: session, index: $0, messageId: Identifier.make("msg"))
        }
    }
    let after = try call(statsSocket, "broker:stats", [:])
    func delta(_ key: String) -> Double { Double((after[key]?.intValue ?? 0) - (before[key]?.intValue ?? 0)) }
    let batch = delta("writesCommitted") / max(1, delta("commits"))
    return (
        rate,
        "addMessage throughput, \(clients) clients: \(Int(rate)) messages/s (\(format(rate / floor)) of the echo floor), "
            + "\(format(batch)) writes per commit"
    )
}

/// Runs `clients` threads with a REQ socket each; `prepare` connects it and returns the frames to send.
/// Returns requests per second over the whole run, timed from a common start.
func runClients(
    clients: Int, messagesPerClient: Int, prepare: @escaping @Sendable (Int, ZMQSocket) throws -> [[UInt8]]
) throws -> Double {
    let context = try ZMQContext(ioThreads: 1)
    let ready = WorkQueue<Bool>()
    let go = Latch<Bool>()
    let finished = WorkQueue<Double>()
    var threads: [NamedThread] = []
    for client in 0..<clients {
        threads.append(
            NamedThread(name: "client\(client)") {
                do {
                    let req = try ZMQSocket(context: context, type: .req)
                    let frames = try prepare(client, req)
                    ready.push(true)
                    _ = go.wait()
                    for frame in frames {
                        try req.send([frame])
                        _ = try req.receive()
                    }
                    finished.push(nowMicros())
                } catch {
                    fatalError("client \(client): \(error)")
                }
            })
    }
    var readyCount = 0
    while readyCount < clients { readyCount += ready.popBatch().count }
    let start = nowMicros()
    go.set(true)
    var ends: [Double] = []
    while ends.count < clients { ends += finished.popBatch() }
    for thread in threads { thread.join() }
    let seconds = (ends.max()! - start) / 1_000_000
    return Double(clients * messagesPerClient) / seconds
}

/// Fills one session with `messages` messages (pipelined on a DEALER), then times reading them all back.
func measureGetMessages(context: ZMQContext, api: String, messages: Int, reads: Int) throws -> Latencies {
    let req = try ZMQSocket(context: context, type: .req)
    try req.connect(api)
    let session = try createSession(req, feature: "read")
    let dealer = try ZMQSocket(context: context, type: .dealer)
    try dealer.connect(api)
    var sent = 0, received = 0
    while received < messages {
        while sent < messages && sent - received < 500 {
            try dealer.send([[], addMessageFrame(sessionId: session, index: sent)])
            sent += 1
        }
        _ = try dealer.receive()
        received += 1
    }
    let frame = RPCRequest(
        id: 1, method: "session:getMessages",
        params: [
            "sessionId": .string(session), "limit": .int(messages),
        ]
    ).frame
    var samples: [Double] = []
    var replyBytes = 0
    for _ in 0..<reads {
        let start = nowMicros()
        try req.send([frame])
        let reply = try req.receive()
        samples.append(nowMicros() - start)
        replyBytes = reply?.last?.count ?? 0
    }
    print("getMessages reply: \(replyBytes / 1024) KiB for \(messages) messages")
    return Latencies(samples: samples)
}

func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/broker-bench-XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: path)
}

func removeDirectory(_ path: String) {
    for suffix in ["", "-wal", "-shm", ".lock"] { unlink(path + "/bench.db" + suffix) }
    rmdir(path)
}
