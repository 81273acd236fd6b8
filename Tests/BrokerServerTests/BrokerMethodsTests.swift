import BrokerProtocol
import Testing
import ZeroMQ

@Suite("Broker methods over ZeroMQ")
struct BrokerMethodsTests {
    @Test("ping and stats")
    func pingAndStats() throws {
        let broker = try TestBroker()
        let ping = try broker.call("broker:ping")
        #expect(ping["protocolVersion"] == 1)
        #expect(ping["version"]?.stringValue?.isEmpty == false)
        #expect((ping["uptimeMs"]?.intValue ?? -1) >= 0)
        _ = try broker.error("nope:nothing")
        let id = try broker.createSession()
        try broker.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": "hi"])
        let stats = try broker.call("broker:stats")
        #expect(stats["sessions"] == 1)
        #expect(stats["messages"] == 1)
        #expect(stats["errors"]?["method_not_found"] == 1)
        #expect((stats["requestsServed"]?.intValue ?? 0) >= 4)
        #expect((stats["databaseBytes"]?.intValue ?? 0) > 0)
    }

    @Test("create, get, list, context, agent description, estimate, clear, reset, delete")
    func sessionLifecycle() throws {
        let broker = try TestBroker()
        let id = try broker.createSession(extra: [
            "taskId": "t-1", "state": "in_dev", "context": ["repo": "demo"], "agentDescription": "You are Dev.",
            "tokenLimit": 50_000,
        ])
        let session = try broker.call("session:get", ["sessionId": .string(id)])
        #expect(session["taskId"] == "t-1" && session["state"] == "in_dev" && session["tokenLimit"] == 50_000)
        #expect(session["context"] == ["repo": "demo"])
        #expect(session["agentDescription"] == "You are Dev.")

        try broker.call(
            "session:setContext", ["sessionId": .string(id), "context": ["repo": "demo", "branch": "main"]])
        #expect(try broker.call("session:getContext", ["sessionId": .string(id)])["context"]?["branch"] == "main")
        try broker.call("session:setAgentDescription", ["sessionId": .string(id), "agentDescription": ["role": "dev"]])
        #expect(
            try broker.call("session:getAgentDescription", ["sessionId": .string(id)])["agentDescription"] == [
                "role": "dev"
            ])

        for index in 0..<3 {
            try broker.call(
                "session:addMessage",
                ["sessionId": .string(id), "role": "user", "content": .string("message \(index)")])
        }
        let size = try broker.call("session:estimateSize", ["sessionId": .string(id)])
        #expect(size["exact"] == true)
        #expect(size["messageCount"] == 3)
        let parts = ["messageTokens", "checkpointTokens", "contextTokens", "agentDescriptionTokens"]
        #expect(size["tokens"]?.intValue == parts.compactMap { size[$0]?.intValue }.reduce(0, +))

        let listed = try broker.call("session:list", ["featureId": "feature-1", "state": "in_dev"])
        #expect(listed["sessions"]?.arrayValue?.count == 1)

        let cleared = try broker.call("session:clearMessages", ["sessionId": .string(id)])
        #expect(cleared["archivedCount"] == 3)
        #expect(try broker.call("session:getMessages", ["sessionId": .string(id)])["messages"] == [])
        let all = try broker.call("session:getMessages", ["sessionId": .string(id), "includeArchived": true])
        #expect(all["messages"]?.arrayValue?.count == 3)

        try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "pending": ["ship it"]])
        let reset = try broker.call("session:reset", ["sessionId": .string(id)])
        #expect(reset["checkpointVersion"] == 2)
        #expect(try broker.call("session:getCheckpoint", ["sessionId": .string(id)])["pending"] == [])
        #expect(
            try broker.call("session:getCheckpoint", ["sessionId": .string(id), "version": 1])["pending"] == ["ship it"]
        )

        let deleted = try broker.call("session:delete", ["sessionId": .string(id)])
        #expect(deleted["deleted"] == true)
        #expect(try broker.error("session:get", ["sessionId": .string(id)]).kind == .notFound)
    }

    @Test("getMessages pages with afterSeq and limit, in order")
    func paging() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        for index in 1...25 {
            try broker.call(
                "session:addMessage", ["sessionId": .string(id), "role": "assistant", "content": .string("m\(index)")])
        }
        var seen: [String] = []
        var after: Int64 = 0
        while true {
            let page = try broker.call(
                "session:getMessages", ["sessionId": .string(id), "afterSeq": .int(after), "limit": 10])
            seen += page["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue } ?? []
            after = try #require(page["nextSeq"]?.intValue)
            if page["hasMore"] == false { break }
        }
        #expect(seen == (1...25).map { "m\($0)" })
    }

    @Test("events:since replays persisted events in order, filtered by topic")
    func eventsSince() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        try broker.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": "x"])
        try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "summary": "s"])
        let all = try broker.call("events:since", ["seq": 0])
        let topics = all["events"]?.arrayValue?.compactMap { $0["topic"]?.stringValue }
        #expect(topics == ["session:created", "session:message", "checkpoint:updated"])
        #expect(all["events"]?.arrayValue?.compactMap { $0["seq"]?.intValue } == [1, 2, 3])
        let later = try broker.call("events:since", ["seq": 1, "topic": "checkpoint:"])
        #expect(later["events"]?.arrayValue?.count == 1)
        #expect(later["lastSeq"] == 3)
    }

    @Test("a retried create with the client's sessionId returns the same session; other attributes conflict")
    func idempotentCreate() throws {
        let broker = try TestBroker()
        let params: JSONObject = ["sessionId": "ses-client-1", "type": "qa", "featureId": "f"]
        let first = try broker.call("session:create", params)
        let again = try broker.call("session:create", params)
        #expect(first["sessionId"] == again["sessionId"])
        #expect(try broker.call("session:list")["sessions"]?.arrayValue?.count == 1)
        let clash = try broker.error("session:create", ["sessionId": "ses-client-1", "type": "dev", "featureId": "f"])
        #expect(clash.kind == .conflict)
    }

    @Test("a stale expectedVersion is a conflict that names the current version")
    func checkpointConflict() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "summary": "v1", "expectedVersion": 0])
        let error = try broker.error(
            "session:updateCheckpoint", ["sessionId": .string(id), "summary": "x", "expectedVersion": 0])
        #expect(error.kind == .conflict)
        #expect(error.details["currentVersion"] == 1)
    }
}

@Suite("Pipelining")
struct PipeliningTests {
    @Test("a DEALER that pipelines writes then a read sees every write, in order")
    func readAfterPipelinedWrites() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        let dealer = try ZMQSocket(context: broker.context, type: .dealer)
        try dealer.connect(broker.endpoints.api)
        for index in 0..<40 {
            let add = RPCRequest(
                id: .int(Int64(index)), method: "session:addMessage",
                params: [
                    "sessionId": .string(id), "role": "user", "content": .string("p\(index)"),
                ])
            try dealer.send([[], add.frame])
        }
        try dealer.send([
            [], RPCRequest(id: "read", method: "session:getMessages", params: ["sessionId": .string(id)]).frame,
        ])
        try dealer.setReceiveTimeout(milliseconds: 5_000)
        var read: JSON?
        var writeIds: [Int64] = []
        while read == nil, let frames = try dealer.receive() {
            let reply = try JSONParser.parse(frames.last ?? [])
            if reply["id"] == "read" {
                read = reply["result"]
            } else if let id = reply["id"]?.intValue {
                writeIds.append(id)
            }
        }
        #expect(writeIds == Array(0..<40))
        let contents = read?["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue }
        #expect(contents == (0..<40).map { "p\($0)" })
    }
}

@Suite("Large pages")
struct LargePageTests {
    @Test("a page of large messages stops at the byte cap and says hasMore; paging still returns them all")
    func byteCap() throws {
        let broker = try TestBroker { $0.maxReplyBytes = 64 * 1024 }
        let id = try broker.createSession()
        let big = String(repeating: "a", count: 40 * 1024)
        for _ in 0..<7 {
            try broker.call("session:addMessage", ["sessionId": .string(id), "role": "tool", "content": .string(big)])
        }
        let client = broker.client(timeoutMs: 20_000)
        let first = try client.call("session:getMessages", ["sessionId": .string(id), "limit": 100])
        let firstCount = first["messages"]?.arrayValue?.count ?? 0
        #expect(firstCount == 2)  // the page passes 64 KiB with its second message
        #expect(first["hasMore"] == true)
        var total = firstCount
        var page = first
        while page["hasMore"] == true {
            page = try client.call(
                "session:getMessages",
                [
                    "sessionId": .string(id), "afterSeq": page["nextSeq"] ?? 0, "limit": 100,
                ])
            total += page["messages"]?.arrayValue?.count ?? 0
        }
        #expect(total == 7)
    }
}
