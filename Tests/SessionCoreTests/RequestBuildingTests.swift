import BrokerProtocol
import Testing

@testable import SessionCore

@Suite("Request building")
struct RequestBuildingTests {
    /// A session whose parts start and end with the whitespace, digits and punctuation most likely to
    /// merge across a boundary if the layout allowed it.
    func awkwardSession(_ store: StoreFixture, limit: Int64 = 100_000) throws -> String {
        let id = try store.createSession([
            "type": "dev", "featureId": "f1", "tokenLimit": .int(limit),
            "agentDescription": "  You are Dev.\n\n  Write Swift 6 code!!  \n",
            "context": ["repo": "agentbroker", "rules": ["no mocks", "tests must fail"], "depth": 3, "skip": nil],
        ])
        _ = try store.write(
            .updateCheckpoint(
                UpdateCheckpoint(
                    params: Params([
                        "sessionId": .string(id), "summary": "Summary with trailing spaces   \n\n",
                        "pending": ["write docs\n(two lines)"], "decisions": ["use zmq"], "blockers": ["CI red"],
                    ]))))
        let contents = [
            "   leading spaces", "\n\nleading newlines", "trailing newlines\n\n\n", "123456789", "'s contraction",
            "日本語のテキスト", "emoji 🎉🎉 ", "", " ", "```swift\nlet x = 1\n```", "!!!???", "tab\there\t",
        ]
        for (index, content) in contents.enumerated() {
            _ = try store.add(id, content, role: index % 3 == 0 ? "assistant" : "user")
        }
        return id
    }

    @Test("the breakdown's parts add up to the exact count of the prompts as returned")
    func breakdownIsExact() throws {
        let store = try StoreFixture()
        let id = try awkwardSession(store)
        for userMessage in ["", "  next step?", "42", "\nnewline first"] {
            let preview = try store.read {
                try $0.previewRequest(Params(["sessionId": .string(id), "userMessage": .string(userMessage)]))
            }
            let breakdown = try #require(preview["breakdown"]?.objectValue)
            let parts = ["agentDescTokens", "contextTokens", "checkpointTokens", "messagesTokens", "userPromptTokens"]
            let sum = parts.compactMap { breakdown[$0]?.intValue }.reduce(0, +)
            let system = try #require(preview["systemPrompt"]?.stringValue)
            let user = try #require(preview["userPrompt"]?.stringValue)
            #expect(sum == breakdown["total"]?.intValue)
            #expect(Int64(store.counter.count(system) + store.counter.count(user)) == breakdown["total"]?.intValue)
            #expect(user == userMessage)
            #expect(preview["omittedMessages"] == 0)
            #expect(system.hasPrefix("# Agent description\n\n  You are Dev."))
            #expect(system.contains("# Context\n\n## repo\n\nagentbroker\n\n## rules\n\n- no mocks\n- tests must fail"))
            #expect(system.contains("## Pending\n\n- write docs (two lines)"))
            #expect(system.contains("### assistant\n\n   leading spaces\n\n"))
        }
        let session = try store.read { try $0.getSession(Params(["sessionId": .string(id)])) }
        let empty = try store.read { try $0.previewRequest(Params(["sessionId": .string(id)])) }
        #expect(session["requestTokens"] == empty["breakdown"]?["total"])
        #expect(
            Int64(store.counter.count(RequestLayout.conversationHeading)) == RequestLayout.conversationHeadingTokens)
    }

    @Test("over the limit, the oldest messages are left out; a tool result never opens the conversation")
    func omitsOldest() throws {
        let store = try StoreFixture()
        let id = try store.createSession(["type": "dev", "featureId": "f1", "tokenLimit": 400])
        for index in 0..<60 {
            let role = index % 4 == 3 ? "tool" : (index % 2 == 0 ? "user" : "assistant")
            var params: JSONObject = [
                "sessionId": .string(id), "role": .string(role), "content": .string("message number \(index) here"),
            ]
            if role == "tool" { params["toolCallId"] = .string("call-\(index)") }
            _ = try store.write(.addMessage(AddMessage(params: Params(params), maxContentBytes: 1 << 20)))
        }
        for userMessage in ["short", String(repeating: "longer question ", count: 10)] {
            let built = try store.read {
                try $0.buildRequest(Params(["sessionId": .string(id), "userMessage": .string(userMessage)]))
            }
            let total = try #require(built["totalTokens"]?.intValue)
            let system = try #require(built["systemPrompt"]?.stringValue)
            #expect(total <= 400)
            #expect(total == Int64(store.counter.count(system) + store.counter.count(userMessage)))
            let omitted = try #require(built["omittedMessages"]?.intValue)
            #expect(omitted > 0 && omitted + (built["includedMessages"]?.intValue ?? 0) == 60)
            #expect(system.contains("(\(omitted) earlier messages omitted to stay within the token limit.)"))
            let firstBlock = try #require(system.range(of: "### ")).upperBound
            #expect(!system[firstBlock...].hasPrefix("tool"))
            #expect(system.hasSuffix("message number 59 here\n\n"))
        }
    }

    @Test("a request that cannot fit even without messages is too_large and names the part")
    func tooLarge() throws {
        let store = try StoreFixture()
        let id = try store.createSession([
            "type": "dev", "featureId": "f1", "tokenLimit": 300,
            "context": .string(String(repeating: "context words ", count: 400)),
        ])
        #expect {
            _ = try store.read { try $0.buildRequest(Params(["sessionId": .string(id), "userMessage": "hi"])) }
        } throws: { error in
            let error = error as? RPCError
            return error?.kind == .tooLarge && error?.details["part"] == "context"
                && error?.message.contains("context") == true
        }
        let small = try store.createSession(["type": "dev", "featureId": "f1", "tokenLimit": 300])
        #expect {
            _ = try store.read {
                try $0.previewRequest(
                    Params([
                        "sessionId": .string(small), "userMessage": .string(String(repeating: "question ", count: 500)),
                    ]))
            }
        } throws: { error in (error as? RPCError)?.details["part"] == "userMessage" }
        #expect {
            _ = try store.read { try $0.buildRequest(Params(["sessionId": "nope", "userMessage": "hi"])) }
        } throws: { error in (error as? RPCError)?.kind == .notFound }
        #expect {
            _ = try store.read { try $0.buildRequest(Params(["sessionId": .string(small)])) }
        } throws: { error in (error as? RPCError)?.kind == .invalidParams }
    }

    @Test("stored prompt counts are filled in for rows from before them, and follow a counter change")
    func recountFillsPromptTokens() throws {
        let store = try StoreFixture(counter: ApproximateTokenCounter())
        let id = try awkwardSession(store)
        let path = store.path
        store.close()
        let file = try DatabaseFile(path: path, syncMode: .normal)
        let outcome = try TokenRecount.reconcile(try file.openWriter(), counter: StoreFixture.exact)
        #expect(outcome.recountedPrompts == 12)
        let reader = SessionReader(connection: try file.openReader(), counter: StoreFixture.exact)
        let preview = try JSONParser.parse(try reader.previewRequest(Params(["sessionId": .string(id)])))
        reader.finish()
        let system = try #require(preview["systemPrompt"]?.stringValue)
        #expect(preview["breakdown"]?["total"]?.intValue == Int64(StoreFixture.exact.count(system)))
        let session = try JSONParser.parse(try reader.getSession(Params(["sessionId": .string(id)])))
        #expect(session["requestTokens"] == preview["breakdown"]?["total"])
    }
}
