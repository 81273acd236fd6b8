import BrokerProtocol
import Testing

@testable import SessionCore

@Suite("Session store")
struct SessionStoreTests {
    @Test("messages come back in order with their exact token counts")
    func addAndRead() throws {
        let store = try StoreFixture()
        let id = try store.createSession()
        let first = try store.add(id, "hello world")
        #expect(first["seq"] == 1)
        #expect(first["tokens"] == .int(Int64(MessageTokens.framing + 2)))  // "hello world" is 2 cl100k tokens
        _ = try store.add(id, "second", role: "assistant")
        let page = try store.read { try $0.getMessages(Params(["sessionId": .string(id)])) }
        let messages = try #require(page["messages"]?.arrayValue)
        #expect(messages.map { $0["content"]?.stringValue } == ["hello world", "second"])
        #expect(messages.map { $0["seq"] } == [1, 2])
        #expect(page["hasMore"] == false)
    }

    @Test("repeating a messageId returns the first result and stores nothing new")
    func idempotentAdd() throws {
        let store = try StoreFixture()
        let id = try store.createSession()
        let first = try store.add(id, "once", messageId: "client-1")
        let again = try store.add(id, "once", messageId: "client-1")
        #expect(first == again)
        let session = try store.read { try $0.getSession(Params(["sessionId": .string(id)])) }
        #expect(session["messageCount"] == 1)
        let other = try store.createSession()
        #expect(throws: RPCError.self) { try store.add(other, "x", messageId: "client-1") }
    }

    @Test("a failing command in a batch leaves nothing behind while the others commit")
    func batchIsolation() throws {
        let store = try StoreFixture()
        let id = try store.createSession()
        let good = try AddMessage(
            params: Params(["sessionId": .string(id), "role": "user", "content": "kept"]), maxContentBytes: 100)
        let bad = try AddMessage(
            params: Params(["sessionId": "ses_missing", "role": "user", "content": "lost"]), maxContentBytes: 100)
        let results = try store.batch([.addMessage(good), .addMessage(bad), .addMessage(good)])
        #expect((try? results[0].get()) != nil)
        #expect(throws: RPCError.notFound("session", "ses_missing")) { try results[1].get() }
        let stats = try store.reader.storeStats()
        #expect(stats["messages"] == 2)
        let events = try store.read { try $0.eventsSince(Params(["seq": 0])) }
        let seqs = try #require(events["events"]?.arrayValue).compactMap { $0["seq"]?.intValue }
        #expect(seqs == [1, 2, 3])  // created + two messages, no gap left by the failed one
    }

    @Test("session totals equal the sum of message counts across add, clear and restart")
    func totalsStayConsistent() throws {
        let store = try StoreFixture()
        let id = try store.createSession()
        var expectedActive: Int64 = 0
        for text in ["alpha", "beta gamma", "{\"json\": [1, 2, 3]}", "你好，世界", "```swift\nlet x = 1\n```"] {
            expectedActive += try #require(try store.add(id, text)["tokens"]?.intValue)
        }
        func sizes() throws -> (tokens: Int64, messageSum: Int64) {
            let size = try store.read { try $0.estimateSize(Params(["sessionId": .string(id)])) }
            let page = try store.read { try $0.getMessages(Params(["sessionId": .string(id)])) }
            let sum = try #require(page["messages"]?.arrayValue).compactMap { $0["tokens"]?.intValue }.reduce(0, +)
            return (try #require(size["messageTokens"]?.intValue), sum)
        }
        #expect(try sizes() == (expectedActive, expectedActive))
        _ = try store.write(.clearMessages(SessionAction(params: Params(["sessionId": .string(id)]))))
        #expect(try sizes() == (0, 0))
        let late = try #require(try store.add(id, "after the clear")["tokens"]?.intValue)
        store.close()
        try store.open()
        #expect(try sizes() == (late, late))
        let all = try store.read { try $0.getMessages(Params(["sessionId": .string(id), "includeArchived": true])) }
        let archived = try #require(all["messages"]?.arrayValue).filter { $0["archived"] == true }
        #expect(archived.count == 5)
    }

    @Test("checkpoints are versioned; a stale expectedVersion is a conflict; old versions stay readable")
    func checkpoints() throws {
        let store = try StoreFixture()
        let id = try store.createSession()
        func update(_ params: JSONObject) throws -> JSON {
            var params = params
            params["sessionId"] = .string(id)
            return try store.write(.updateCheckpoint(UpdateCheckpoint(params: Params(params))))
        }
        #expect(try update(["pending": ["write tests"], "expectedVersion": 0])["version"] == 1)
        let second = try update(["completed": ["write tests"], "decisions": ["use SQLite"]])
        #expect(second["version"] == 2)
        #expect(second["pending"] == ["write tests"])  // carried over
        #expect(throws: RPCError.self) { try update(["summary": "late", "expectedVersion": 1]) }
        let old = try store.read { try $0.getCheckpoint(Params(["sessionId": .string(id), "version": 1])) }
        #expect(old["completed"] == [])
        #expect(throws: RPCError.self) {
            _ = try store.read { try $0.getCheckpoint(Params(["sessionId": .string(id), "version": 9])) }
        }
    }

    @Test("delete removes the session and its messages; reset archives and empties the checkpoint")
    func deleteAndReset() throws {
        let store = try StoreFixture()
        let id = try store.createSession()
        _ = try store.add(id, "m")
        let reset = try store.write(.reset(SessionAction(params: Params(["sessionId": .string(id)]))))
        #expect(reset["archivedCount"] == 1 && reset["checkpointVersion"] == 1)
        let deleted = try store.write(.delete(SessionAction(params: Params(["sessionId": .string(id)]))))
        #expect(deleted["messagesDeleted"] == 1)
        #expect(throws: RPCError.notFound("session", id)) {
            _ = try store.read { try $0.getSession(Params(["sessionId": .string(id)])) }
        }
        #expect(try store.reader.storeStats()["messages"] == 0)
    }

    @Test("a requestId makes a retried clear return its first result")
    func requestIdRetry() throws {
        let store = try StoreFixture()
        let id = try store.createSession()
        _ = try store.add(id, "one")
        let params = Params(["sessionId": .string(id), "requestId": "r-1"])
        let first = try store.write(.clearMessages(SessionAction(params: params)))
        _ = try store.add(id, "two")
        let retry = try store.write(.clearMessages(SessionAction(params: params)))
        #expect(first == retry)
        let session = try store.read { try $0.getSession(Params(["sessionId": .string(id)])) }
        #expect(session["messageCount"] == 1)  // "two" was not archived by the retry
    }

    @Test("list filters and pages with a cursor")
    func listPaging() throws {
        let store = try StoreFixture()
        for index in 0..<5 { _ = try store.createSession(["type": "qa", "featureId": .string("f\(index % 2)")]) }
        _ = try store.createSession(["type": "dev", "featureId": "f0"])
        let page1 = try store.read { try $0.listSessions(Params(["type": "qa", "limit": 2])) }
        #expect(page1["sessions"]?.arrayValue?.count == 2)
        let cursor = try #require(page1["nextCursor"]?.stringValue)
        let page2 = try store.read {
            try $0.listSessions(Params(["type": "qa", "limit": 10, "cursor": .string(cursor)]))
        }
        #expect(page2["sessions"]?.arrayValue?.count == 3)
        #expect(page2["nextCursor"]?.isNull == true)
        let f0 = try store.read { try $0.listSessions(Params(["featureId": "f0"])) }
        #expect(f0["sessions"]?.arrayValue?.count == 4)
    }
}

@Suite("Request ids")
struct RequestIdTests {
    @Test("a requestId reused on another method or session is a conflict, not a silent replay")
    func reuseIsConflict() throws {
        let store = try StoreFixture()
        let a = try store.createSession(), b = try store.createSession()
        _ = try store.write(.clearMessages(SessionAction(params: Params(["sessionId": .string(a), "requestId": "r"]))))
        #expect(throws: RPCError.self) {
            try store.write(.delete(SessionAction(params: Params(["sessionId": .string(b), "requestId": "r"]))))
        }
        #expect(throws: RPCError.self) {
            try store.write(.clearMessages(SessionAction(params: Params(["sessionId": .string(b), "requestId": "r"]))))
        }
        #expect(try store.read { try $0.getSession(Params(["sessionId": .string(b)])) }["sessionId"] == .string(b))
    }
}

@Suite("Token estimator")
struct TokenEstimatorTests {
    @Test("messages cost their content plus the documented framing; checkpoints their fields")
    func formulas() {
        let estimator = TokenEstimator(counter: StoreFixture.exact)
        #expect(estimator.isExact)
        #expect(estimator.estimate("") == 0)
        #expect(estimator.estimate("hello world") == 2)
        let messages: [(content: String, name: String?)] = [("hello world", nil), ("hi", "dev-agent"), ("", nil)]
        let expected =
            (MessageTokens.framing + 2) + (MessageTokens.framing + 1 + estimator.estimate("dev-agent") + 1)
            + MessageTokens.framing
        #expect(estimator.estimateMessages(messages) == expected)
        let checkpoint = Checkpoint(summary: "sum", pending: ["a", "b"])
        #expect(estimator.estimateCheckpoint(checkpoint) == estimator.estimate("sum\na\nb"))
    }
}
