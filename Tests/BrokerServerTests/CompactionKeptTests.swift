import BrokerClient
import BrokerProtocol
import Testing

/// A compaction never makes a session's request bigger: when the new checkpoint would cost as much as the
/// messages it replaces, nothing is written.
@Suite("Compaction that would not help")
struct CompactionKeptTests {
    @Test("a tiny session: session:compact answers conflict, the messages stay, compaction:complete says kept")
    func tinySession() throws {
        let broker = try TestBroker()
        let events = try broker.compactionEvents()
        let id = try broker.createSession()
        try broker.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": "hi"])
        try broker.call("session:addMessage", ["sessionId": .string(id), "role": "assistant", "content": "hello"])
        let before = try broker.call("session:get", ["sessionId": .string(id)])

        let preview = try broker.call("session:previewCompaction", ["sessionId": .string(id)])
        #expect(preview["kept"]?.stringValue?.contains("would not make the request smaller") == true)
        let refusal = try broker.error("session:compact", ["sessionId": .string(id)])
        #expect(refusal.kind == .conflict && refusal.message.contains("messages kept"), "\(refusal)")
        let tokensBefore = try #require(refusal.details["tokensBefore"]?.intValue)
        #expect((refusal.details["tokensAfter"]?.intValue ?? 0) >= tokensBefore)

        let after = try broker.call("session:get", ["sessionId": .string(id)])
        #expect(after["checkpointVersion"] == before["checkpointVersion"])
        #expect(after["requestTokens"] == before["requestTokens"])
        let messages = try broker.call("session:getMessages", ["sessionId": .string(id)])["messages"]?.arrayValue
        #expect(messages?.count == 2)
        var complete: ReceivedEvent?
        while complete == nil, let event = try events.nextCompaction() {
            if event.topic == "compaction:complete" { complete = event }
        }
        #expect(complete?.body["tokensSaved"] == 0)
        #expect(complete?.body["kept"]?.stringValue?.contains("messages kept") == true)
        #expect(complete?.body["messageCount"] == 0)
    }

    @Test("a session with enough in it compacts, the request gets smaller, and prose items reach the checkpoint")
    func worthIt() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        let text = String(repeating: "The parser reads each record and reports its offsets and errors. ", count: 20)
        for index in 0..<6 {
            try broker.call(
                "session:addMessage",
                ["sessionId": .string(id), "role": index % 2 == 0 ? "user" : "assistant", "content": .string(text)])
        }
        let prose = [
            "Let's go with PostgreSQL for the shared store.", "I still need to write the migration guide.",
            "The deploy is blocked until ops hands us the staging API key.",
        ]
        for content in prose {
            try broker.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": .string(content)])
        }
        let before = try #require(try broker.call("session:get", ["sessionId": .string(id)])["requestTokens"]?.intValue)
        let result = try broker.client(timeoutMs: 30_000).call("session:compact", ["sessionId": .string(id)])
        #expect(result["archivedCount"] == 9)
        #expect((result["tokensAfter"]?.intValue ?? .max) < before)
        let checkpoint = try broker.call("session:getCheckpoint", ["sessionId": .string(id)])
        #expect(checkpoint["decisions"]?.arrayValue?.first?.stringValue?.contains("PostgreSQL") == true)
        #expect(checkpoint["pending"]?.arrayValue?.first?.stringValue?.contains("migration guide") == true)
        #expect(checkpoint["blockers"]?.arrayValue?.first?.stringValue?.contains("staging API key") == true)
    }
}
