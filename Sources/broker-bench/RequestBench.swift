import BrokerProtocol
import BrokerServer
import Logging
import SQLite
import SessionCore
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Request building and compaction on a session of 10,000 messages holding about 100k tokens.
///
/// Prints p50/p99 of `session:buildRequest` and `session:previewRequest` round trips (all
/// messages fit; and with a lower limit, so the oldest are left out), next to a
/// `session:getMessages` of the same 10,000 messages in the same run; then an embedded
/// compaction of 10,000 messages, as the summarizer alone and as a whole `session:compact`.
func runRequestBench(context: ZMQContext, floor: Double, quick: Bool) throws {
    let directory = makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    var configuration = benchConfiguration(databasePath: directory + "/requests.db")
    // Measure building, not compaction: no automatic compaction while the session is filled.
    configuration.compaction.policy.threshold = .tokens(1_000_000_000)
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    let broker = Broker(configuration: configuration, logger: logger)
    let endpoints = try broker.start()
    defer { broker.stop() }
    let req = try ZMQSocket(context: context, type: .req)
    try req.connect(endpoints.api)
    print("\n== requests and compaction ==")

    func fill(limit: Int64) throws -> String {
        let session = try call(
            req, "session:create",
            [
                "type": "dev", "featureId": "requests", "tokenLimit": .int(limit),
                "agentDescription": "You are the Dev agent of AgentBroker. Write Swift 6 with strict concurrency.",
                "context": ["repo": "agentbroker", "task": "request building benchmark"],
            ])["sessionId"]!.stringValue!
        let dealer = try ZMQSocket(context: context, type: .dealer)
        defer { dealer.close() }
        try dealer.connect(endpoints.api)
        var sent = 0, received = 0
        while received < 10_000 {
            while sent < 10_000 && sent - received < 500 {
                // Short prose of the kinds the embedded summarizer reads (about 10 tokens a message, 100k in all).
                let content = [
                    "Step \(sent): run checks.", "Step \(sent) passes.", "Let's go with plan \(sent % 7).",
                    "I still need to fix step \(sent).", "Blocked on CI for step \(sent).", "I merged step \(sent).",
                ][sent % 6]
                let request = RPCRequest(
                    id: .int(Int64(sent)), method: "session:addMessage",
                    params: [
                        "sessionId": .string(session), "role": sent % 2 == 0 ? "user" : "assistant",
                        "content": .string(content),
                    ])
                try dealer.send([[], request.frame])
                sent += 1
            }
            _ = try dealer.receive()
            received += 1
        }
        return session
    }

    let session = try fill(limit: 120_000)
    let info = try call(req, "session:get", ["sessionId": .string(session)])
    print(
        "session: \(info["messageCount"]!.serializedString) messages, "
            + "\(info["requestTokens"]!.serializedString) request tokens (limit 120000)")
    let reads = quick ? 20 : 200
    func measure(_ method: String, _ params: JSONObject) throws -> (Latencies, Int) {
        let frame = RPCRequest(id: 1, method: method, params: params).frame
        var samples: [Double] = []
        var bytes = 0
        for _ in 0..<(reads + 5) {
            let start = nowMicros()
            try req.send([frame])
            let reply = try req.receive()
            samples.append(nowMicros() - start)
            bytes = reply?.last?.count ?? 0
        }
        return (Latencies(samples: Array(samples.dropFirst(5))), bytes)
    }
    let (messages, messageBytes) = try measure(
        "session:getMessages", ["sessionId": .string(session), "limit": 10_000])
    print(messages.line("baseline: getMessages of the 10,000 messages (\(messageBytes / 1024) KiB)", floor: floor))
    for method in ["session:buildRequest", "session:previewRequest"] {
        let params: JSONObject = ["sessionId": .string(session), "userMessage": "What is next?"]
        let (latencies, bytes) = try measure(method, params)
        print(
            latencies.line("\(method), all 10,000 messages (\(bytes / 1024) KiB)", floor: floor)
                + ", \(format(latencies.p50 / messages.p50))x getMessages")
    }
    let small = try fill(limit: 50_000)
    let (omitting, _) = try measure(
        "session:buildRequest", ["sessionId": .string(small), "userMessage": "What is next?"])
    let built = try call(req, "session:buildRequest", ["sessionId": .string(small), "userMessage": "What is next?"])
    print(
        omitting.line(
            "session:buildRequest, limit 50000 (\(built["omittedMessages"]!.serializedString) oldest left out)",
            floor: floor))

    // The embedded summarizer alone, on the 10,000 messages as the compactor reads them.
    let reader = SessionReader(
        connection: try Connection(path: configuration.databasePath, readOnly: true),
        counter: TokenCounterLoader.loadDefault().counter)
    let plan = try reader.compactionPlan(sessionId: session)
    reader.finish()
    var summarizer: [Double] = []
    let embedded = EmbeddedSummarizer(counter: TokenCounterLoader.loadDefault().counter)
    var checkpoint = Checkpoint()
    for _ in 0..<(quick ? 3 : 10) {
        let start = nowMicros()
        checkpoint = embedded.summarize(SummaryInput(checkpoint: plan.checkpoint, messages: plan.archived))
        summarizer.append(nowMicros() - start)
    }
    let summary = Latencies(samples: summarizer)
    print(
        "embedded summarizer, \(plan.archived.count) messages: p50 \(format(summary.p50 / 1000)) ms "
            + "(\(checkpoint.decisions.count) decisions, \(checkpoint.pending.count) open, "
            + "\(checkpoint.blockers.count) blockers, \(checkpoint.completed.count) completed)")
    let start = nowMicros()
    let result = try call(req, "session:compact", ["sessionId": .string(session)])
    let total = (nowMicros() - start) / 1000
    print(
        "session:compact round trip, \(result["archivedCount"]!.serializedString) messages (read, summarise, swap): "
            + "\(format(total)) ms; broker-measured \(result["durationMs"]!.serializedString) ms; "
            + "request tokens \(result["tokensBefore"]!.serializedString) -> \(result["tokensAfter"]!.serializedString); "
            + "the summarizer's share \(format(summary.p50 / 1000 / max(total, 0.001) * 100))%")
}
