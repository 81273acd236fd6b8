import BrokerClient
import BrokerProtocol
import BrokerServer
import Foundation
import Testing

@Suite("Compaction")
struct CompactionTests {
    @Test("a 10,000-message session driven past 100k tokens compacts by itself and keeps what matters")
    func automaticCompaction() throws {
        let broker = try TestBroker()
        let events = try broker.compactionEvents()
        let id = try broker.createSession(extra: ["agentDescription": "You are Dev.", "context": ["repo": "demo"]])
        try broker.call(
            "session:updateCheckpoint",
            ["sessionId": .string(id), "pending": ["ship v1"], "decisions": ["use SQLite"], "blockers": ["slow CI"]])
        var messages = (0..<10_000).map { index in
            (role: index % 2 == 0 ? "user" : "assistant", content: "Step \(index): working on the parser, all fine.")
        }
        messages[500].content = "DECISION: parse with a hand-written scanner"
        messages[1_000].content = "TODO: benchmark the scanner"
        messages[1_500].content = "BLOCKER: the CI runner is out of disk"
        #expect(try broker.addMessages(id, messages) == 0)

        let start = try #require(try events.nextCompaction())
        #expect(start.topic == "compaction:start")
        #expect(start.body["reason"] == "auto" && start.body["sessionId"] == .string(id))
        #expect((start.body["tokensBefore"]?.intValue ?? 0) >= 100_000)
        let complete = try #require(try events.nextCompaction())
        #expect(complete.topic == "compaction:complete")
        #expect(complete.body["checkpointVersion"] == 2 && complete.body["summarizer"] == "embedded")
        #expect((complete.seq ?? 0) > (start.seq ?? 0))
        let archived = try #require(complete.body["messageCount"]?.intValue)
        #expect(archived > 5_000)
        #expect((complete.body["tokensAfter"]?.intValue ?? .max) < (complete.body["tokensBefore"]?.intValue ?? 0))

        let checkpoint = try broker.call("session:getCheckpoint", ["sessionId": .string(id)])
        let pending = checkpoint["pending"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let decisions = checkpoint["decisions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let blockers = checkpoint["blockers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(pending == ["ship v1", "benchmark the scanner"])
        #expect(decisions == ["use SQLite", "parse with a hand-written scanner"])
        #expect(blockers == ["slow CI", "the CI runner is out of disk"])
        let first = try broker.call("session:getCheckpoint", ["sessionId": .string(id), "version": 1])
        #expect(first["pending"] == ["ship v1"] && first["summary"] == "")

        let session = try broker.call("session:get", ["sessionId": .string(id)])
        #expect(session["messageCount"]?.intValue == 10_000 - archived)
        #expect(session["archivedCount"]?.intValue == archived)
        #expect(session["metrics"]?["compactions"] == 1)
        #expect((session["metrics"]?["tokensSaved"]?.intValue ?? 0) > 50_000)
        #expect(session["metrics"]?["lastCompactionMs"]?.intValue != nil)
        let active = try broker.call("session:getMessages", ["sessionId": .string(id), "limit": 20_000])
        #expect(active["messages"]?.arrayValue?.first?["seq"]?.intValue == archived + 1)
        let request = try broker.call("session:buildRequest", ["sessionId": .string(id), "userMessage": "next?"])
        #expect((request["totalTokens"]?.intValue ?? .max) < 100_000)
        #expect(request["omittedMessages"] == 0)
        let all = try broker.call(
            "session:getMessages", ["sessionId": .string(id), "includeArchived": true, "limit": 20_000])
        #expect(all["messages"]?.arrayValue?.count == 10_000)
        let history = try broker.call("session:listCompactions", ["sessionId": .string(id)])
        #expect(history["compactions"]?.arrayValue?.count == 1)
        #expect(history["compactions"]?.arrayValue?.first?["reason"] == "auto")
    }

    @Test("messages added during a compaction survive it; the limit holds meanwhile; a second compact is refused")
    func messagesDuringCompaction() throws {
        let answer = #"{"summary":"slow summary","completed":[],"pending":["keep me"],"decisions":[],"blockers":[]}"#
        let broker = try TestBroker {
            $0.compaction.model = commandSummarizer("cat > /dev/null; sleep 2; echo '\(answer)'")
            $0.compaction.policy.minGainTokens = 10
        }
        let events = try broker.compactionEvents()
        let id = try broker.createSession(extra: ["tokenLimit": 1_000])
        try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "pending": ["keep me"]])
        let early = (0..<120).map { (role: "user", content: "early message \($0) with a few words") }
        #expect(try broker.addMessages(id, early) == 0)
        let start = try #require(try events.nextCompaction())
        #expect(start.topic == "compaction:start")

        let late = (0..<30).map { (role: "assistant", content: "late message \($0)") }
        #expect(try broker.addMessages(id, late) == 0)
        let during = try broker.call("session:buildRequest", ["sessionId": .string(id), "userMessage": "go on"])
        #expect((during["totalTokens"]?.intValue ?? .max) <= 1_000)
        #expect((during["omittedMessages"]?.intValue ?? 0) > 0)
        #expect(try broker.error("session:compact", ["sessionId": .string(id)]).kind == .conflict)

        let complete = try #require(try events.nextCompaction())
        #expect(complete.topic == "compaction:complete")
        #expect(complete.body["summarizer"]?.stringValue?.hasPrefix("command") == true)
        let archived = try #require(complete.body["messageCount"]?.intValue)
        let active = try broker.call("session:getMessages", ["sessionId": .string(id)])
        let contents = active["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue } ?? []
        #expect(contents.count == 150 - Int(archived))
        #expect(Set(late.map(\.content)).isSubset(of: Set(contents)))
        let all = try broker.call("session:getMessages", ["sessionId": .string(id), "includeArchived": true])
        #expect(all["messages"]?.arrayValue?.count == 150)
        let checkpoint = try broker.call("session:getCheckpoint", ["sessionId": .string(id)])
        #expect(checkpoint["summary"] == "slow summary" && checkpoint["pending"] == ["keep me"])
    }

    @Test("a failing summarizer: compaction:error for each try, then the embedded summary, nothing lost")
    func failingSummarizer() throws {
        for (script, problem) in [
            ("cat > /dev/null; echo 'this is not json'", "no JSON object"),
            (#"cat > /dev/null; echo '{"summary":"lossy","pending":[]}'"#, "dropped 1 item"),
            ("cat > /dev/null; echo oops >&2; exit 3", "exited with 3"),
        ] {
            let broker = try TestBroker { $0.compaction.model = commandSummarizer(script) }
            let events = try broker.compactionEvents()
            let id = try broker.createSession()
            try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "pending": ["never drop me"]])
            let messages = (0..<25).map { (role: "user", content: "message \($0). TODO: item \($0)") }
            #expect(try broker.addMessages(id, messages) == 0)
            let result = try broker.call("session:compact", ["sessionId": .string(id)])
            #expect(result["summarizer"]?.stringValue?.hasPrefix("embedded (fallback from command") == true)
            #expect(result["archivedCount"] == 25)
            var topics: [String] = []
            while topics.last != "compaction:complete", let event = try events.nextCompaction() {
                topics.append(event.topic)
                if event.topic == "compaction:error" {
                    #expect(event.body["error"]?.stringValue?.contains(problem) == true, "\(event.body)")
                    #expect(event.body["willRetry"] == true)
                }
            }
            #expect(topics == ["compaction:start", "compaction:error", "compaction:error", "compaction:complete"])
            let checkpoint = try broker.call("session:getCheckpoint", ["sessionId": .string(id)])
            #expect(checkpoint["pending"]?.arrayValue?.first == "never drop me")
            #expect(checkpoint["pending"]?.arrayValue?.count == 26)
            let all = try broker.call("session:getMessages", ["sessionId": .string(id), "includeArchived": true])
            #expect(all["messages"]?.arrayValue?.count == 25)
        }
    }

    @Test("a session cleared during its compaction: the swap is refused and reported, nothing is lost")
    func changedDuringCompaction() throws {
        let answer = #"{"summary":"late","completed":[],"pending":[],"decisions":[],"blockers":[]}"#
        let broker = try TestBroker {
            $0.compaction.model = commandSummarizer("cat > /dev/null; sleep 1.5; echo '\(answer)'")
        }
        let events = try broker.compactionEvents()
        let id = try broker.createSession()
        #expect(try broker.addMessages(id, (0..<10).map { (role: "user", content: "m\($0)") }) == 0)
        let reply = Latch()
        let thread = Thread {
            reply.set(
                Result { try broker.client(timeoutMs: 10_000).call("session:compact", ["sessionId": .string(id)]) })
        }
        thread.start()
        #expect(try events.nextCompaction()?.topic == "compaction:start")
        try broker.call("session:clearMessages", ["sessionId": .string(id)])
        let error = try #require(try events.nextCompaction())
        #expect(error.topic == "compaction:error" && error.body["willRetry"] == false)
        guard case .failure(let failure) = reply.wait(), case .rpc(let rpcError) = failure as? ClientError else {
            throw TestFailure("session:compact should have failed")
        }
        #expect(rpcError.kind == .conflict)
        let session = try broker.call("session:get", ["sessionId": .string(id)])
        #expect(session["checkpointVersion"] == 0 && session["archivedCount"] == 10)
    }

    @Test("a dry run changes nothing; a forced compaction archives everything and records its instructions")
    func forcedAndDryRun() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        #expect(
            try broker.addMessages(id, (0..<20).map { (role: "user", content: "note \($0). DONE: task \($0)") }) == 0)
        let preview = try broker.call("session:previewCompaction", ["sessionId": .string(id)])
        #expect(preview["archive"]?["messageCount"] == 20 && preview["archive"]?["fromSeq"] == 1)
        #expect(preview["checkpoint"]?["version"] == 1 && preview["checkpoint"]?["completed"]?.arrayValue?.count == 20)
        #expect((preview["tokensAfter"]?.intValue ?? .max) < (preview["tokensBefore"]?.intValue ?? 0))
        let untouched = try broker.call("session:get", ["sessionId": .string(id)])
        #expect(untouched["checkpointVersion"] == 0 && untouched["messageCount"] == 20)

        let result = try broker.call("session:compact", ["sessionId": .string(id), "instructions": "keep file paths"])
        #expect(result["reason"] == "manual" && result["archivedCount"] == 20 && result["checkpointVersion"] == 1)
        #expect(result["fromSeq"] == 1 && result["throughSeq"] == 20)
        let checkpoint = try broker.call("session:getCheckpoint", ["sessionId": .string(id)])
        #expect(checkpoint["completed"] == preview["checkpoint"]?["completed"])
        let history = try broker.call("session:listCompactions", ["sessionId": .string(id)])
        #expect(history["compactions"]?.arrayValue?.first?["instructions"] == "keep file paths")
        #expect(history["compactions"]?.arrayValue?.first?["reason"] == "manual")
        let active = try broker.call("session:getMessages", ["sessionId": .string(id)])
        #expect(active["messages"]?.arrayValue?.isEmpty == true)
        #expect(try broker.error("session:compact", ["sessionId": "nope"]).kind == .notFound)
        #expect(try broker.error("session:compact", ["sessionId": .string(id), "force": true]).kind == .invalidParams)
        #expect(try broker.error("session:previewCompaction", ["sessionId": 7]).kind == .invalidParams)
        #expect(try broker.error("session:listCompactions", ["sessionId": "nope"]).kind == .notFound)
    }
}

@Suite("Compaction configuration")
struct CompactionConfigurationTests {
    func resolve(_ json: String, environment: [String: String] = [:]) throws -> BrokerConfiguration {
        let file = TestBroker.makeDirectory() + "/broker.json"
        try json.write(toFile: file, atomically: true, encoding: .utf8)
        return try BrokerConfiguration.resolve(
            flags: ConfigurationOverrides(configFile: file), environment: environment)
    }

    @Test("threshold as a fraction or tokens, cooldown, gain, summarizer; the environment wins; mistakes are refused")
    func compactionSettings() throws {
        let embedded = try resolve(#"{"compaction": {"threshold": 0.8, "cooldownMs": 5000, "minGainTokens": 200}}"#)
        #expect(embedded.compaction.policy.threshold == .fraction(0.8))
        #expect(embedded.compaction.policy.cooldownMillis == 5000 && embedded.compaction.policy.minGainTokens == 200)
        #expect(embedded.compaction.model == nil)
        let model = try resolve(
            #"{"compaction": {"threshold": 90000, "summarizer": {"provider": "command", "command": ["cat"], "retries": 2}}}"#
        )
        #expect(model.compaction.policy.threshold == .tokens(90_000))
        #expect(model.compaction.model?.kind == .command && model.compaction.modelRetries == 2)
        let fromEnvironment = try resolve(
            #"{"compaction": {"threshold": 0.5}}"#,
            environment: ["BROKER_COMPACTION_THRESHOLD": "0.9", "BROKER_SUMMARIZER": "embedded"])
        #expect(fromEnvironment.compaction.policy.threshold == .fraction(0.9))
        for bad in [
            #"{"compaction": {"threshold": -1}}"#, #"{"compaction": {"treshold": 0.5}}"#, #"{"compaction": 3}"#,
            #"{"compaction": {"summarizer": {"provider": "telepathy"}}}"#,
            #"{"compaction": {"summarizer": {"provider": "anthropic", "apiKeyEnv": "NO_SUCH_KEY_VAR"}}}"#,
        ] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try resolve(bad) }
        }
    }
}

/// A one-shot result handed from a thread to the test.
final class Latch: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Result<JSON, any Error>?

    func set(_ result: Result<JSON, any Error>) {
        condition.lock()
        value = result
        condition.broadcast()
        condition.unlock()
    }

    func wait() -> Result<JSON, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
