import BrokerClient
import BrokerProtocol
import BrokerServer
import Foundation
import Testing
import ZeroMQ

@Suite("Many clients, events, persistence")
struct ConcurrencyAndEventsTests {
    @Test("16 clients writing at once: every message stored once, in order per session")
    func concurrentWriters() throws {
        let broker = try TestBroker()
        let clients = 16, perClient = 50
        let sessions = try (0..<clients).map { _ in try broker.createSession() }
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: clients) { index in
            let client = broker.client()
            for n in 0..<perClient {
                do {
                    let reply = try client.call(
                        "session:addMessage",
                        [
                            "sessionId": .string(sessions[index]), "role": "user",
                            "content": .string("c\(index) m\(n)"),
                            "messageId": .string("c\(index)-m\(n)"),
                        ])
                    if reply["seq"]?.intValue != Int64(n + 1) { failures.add() }
                } catch {
                    failures.add()
                }
            }
        }
        #expect(failures.value == 0)
        for (index, id) in sessions.enumerated() {
            let page = try broker.call("session:getMessages", ["sessionId": .string(id)])
            let contents = page["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue }
            #expect(contents == (0..<perClient).map { "c\(index) m\($0)" })
        }
        #expect(try broker.call("broker:stats")["messages"] == .int(clients * perClient))
    }

    @Test("a slow read on one session does not stall writes on another")
    func slowReadDoesNotBlockWrites() throws {
        let broker = try TestBroker()
        let big = try broker.createSession()
        let filler = broker.client()
        for index in 0..<2_000 {
            _ = try filler.call(
                "session:addMessage",
                [
                    "sessionId": .string(big), "role": "user",
                    "content": .string(String(repeating: "word ", count: 200) + "\(index)"),
                ])
        }
        let other = try broker.createSession()
        let reads = Counter()
        let reader = Thread {
            let client = broker.client()
            for _ in 0..<5 {
                _ = try? client.call("session:getMessages", ["sessionId": .string(big), "limit": 2_000])
                reads.add()
            }
        }
        reader.start()
        let writer = broker.client()
        for index in 0..<50 {
            _ = try writer.call(
                "session:addMessage", ["sessionId": .string(other), "role": "user", "content": .string("w\(index)")])
        }
        #expect(try broker.call("session:get", ["sessionId": .string(other)])["messageCount"] == 50)
        while reads.value < 5 { usleep(10_000) }
    }

    @Test("events arrive on a real SUB socket in seq order, filtered by prefix")
    func liveEvents() throws {
        let broker = try TestBroker()
        let subscriber = try EventSubscriber(
            endpoint: broker.endpoints.events, context: broker.context, prefixes: ["session:"])
        // PUB/SUB joins take a moment: create sessions until the subscription is live.
        var first: ReceivedEvent?
        for _ in 0..<50 where first == nil {
            _ = try broker.createSession(feature: "warm-up")
            first = try subscriber.next(timeoutMs: 100)
        }
        #expect(first != nil)
        while try subscriber.next(timeoutMs: 200) != nil {}
        let id = try broker.createSession()
        for index in 0..<5 {
            try broker.call(
                "session:addMessage", ["sessionId": .string(id), "role": "user", "content": .string("e\(index)")])
        }
        try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "summary": "not a session: topic"])
        try broker.call("session:clearMessages", ["sessionId": .string(id)])
        var received: [ReceivedEvent] = []
        while let event = try subscriber.next(timeoutMs: 1_000) {
            received.append(event)
            if event.topic == "session:cleared" { break }
        }
        #expect(
            received.map(\.topic) == ["session:created"] + Array(repeating: "session:message", count: 5) + [
                "session:cleared"
            ])
        let seqs = received.compactMap(\.seq)
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
        #expect(received.allSatisfy { $0.body["sessionId"]?.stringValue == id && $0.body["at"] != nil })
    }

    @Test("a subscriber that never reads does not slow or block the broker")
    func stalledSubscriber() throws {
        let broker = try TestBroker()
        let stalled = try ZMQSocket(context: broker.context, type: .sub)
        try stalled.setHighWaterMarks(send: 10, receive: 10)
        try stalled.subscribe("")
        try stalled.connect(broker.endpoints.events)
        let id = try broker.createSession()
        let client = broker.client(timeoutMs: 5_000)
        for index in 0..<3_000 {
            _ = try client.call(
                "session:addMessage",
                [
                    "sessionId": .string(id), "role": "user", "content": .string("event flood \(index)"),
                ])
        }
        #expect(try broker.call("session:get", ["sessionId": .string(id)])["messageCount"] == 3_000)
        #expect(try broker.call("events:since", ["seq": 3_000])["events"]?.arrayValue?.count == 1)
        stalled.close()
    }

    @Test("data survives a restart; the event sequence continues")
    func restartPersistence() throws {
        let directory = TestBroker.makeDirectory()
        var id = ""
        do {
            let broker = try TestBroker(directory: directory)
            id = try broker.createSession()
            try broker.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": "remember me"])
            try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "decisions": ["keep it"]])
        }
        let again = try TestBroker(directory: directory)
        let messages = try again.call("session:getMessages", ["sessionId": .string(id)])
        #expect(messages["messages"]?.arrayValue?.first?["content"] == "remember me")
        #expect(try again.call("session:getCheckpoint", ["sessionId": .string(id)])["decisions"] == ["keep it"])
        try again.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": "and me"])
        let events = try again.call("events:since", ["seq": 0])["events"]?.arrayValue ?? []
        #expect(events.compactMap { $0["seq"]?.intValue } == [1, 2, 3, 4])
    }

    @Test("a second broker on the same database or endpoints fails with a clear message")
    func secondBrokerRefused() throws {
        let first = try TestBroker()
        #expect {
            _ = try TestBroker(directory: first.directory)
        } throws: { "\($0)".contains("in use by another broker") }
        let other = TestBroker.makeDirectory()
        #expect {
            _ = try TestBroker(configure: { $0.apiEndpoint = first.endpoints.api }, directory: other)
        } throws: { "\($0)".contains("already in use") }
        let ipcDirectory = TestBroker.makeDirectory()
        let ipc = "ipc://\(ipcDirectory)/api.sock"
        let owner = try TestBroker(configure: { $0.apiEndpoint = ipc })
        #expect(try owner.call("broker:ping")["protocolVersion"] == 1)
        #expect {
            _ = try TestBroker(configure: { $0.apiEndpoint = ipc })
        } throws: { "\($0)".contains("in use by another broker") }
        #expect(try owner.call("broker:ping")["protocolVersion"] == 1)  // not taken over
    }

    @Test("configuration: flag beats environment beats file beats default; bad files are refused")
    func configurationPrecedence() throws {
        let directory = TestBroker.makeDirectory()
        let file = directory + "/broker.json"
        try #"{"api": "tcp://127.0.0.1:7001", "events": "tcp://127.0.0.1:7002", "db": "/tmp/x.db", "tokenLimit": 5000}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let resolved = try BrokerConfiguration.resolve(
            flags: ConfigurationOverrides(api: "tcp://127.0.0.1:9001", configFile: file),
            environment: ["BROKER_API": "tcp://127.0.0.1:8001", "BROKER_EVENTS": "tcp://127.0.0.1:8002"])
        #expect(resolved.apiEndpoint == "tcp://127.0.0.1:9001")
        #expect(resolved.eventsEndpoint == "tcp://127.0.0.1:8002")
        #expect(resolved.databasePath == "/tmp/x.db")
        #expect(resolved.workersEndpoint == "tcp://127.0.0.1:5557")
        #expect(resolved.defaultTokenLimit == 5000)
        try #"{"apii": "x"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) {
            try BrokerConfiguration.resolve(flags: ConfigurationOverrides(configFile: file), environment: [:])
        }
        #expect(throws: ConfigurationError.self) {
            try BrokerConfiguration.resolve(flags: ConfigurationOverrides(sync: "sometimes"), environment: [:])
        }
    }
}

/// A thread-safe counter for tests.
final class Counter: @unchecked Sendable {
    // @unchecked Sendable: `count` is guarded by `lock`.
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
