import BrokerClient
import BrokerProtocol
import BrokerServer
import Foundation
import Testing
import ZeroMQ

/// A secured broker in this process: CURVE on every endpoint, a ZAP handler, and roles.
@Suite("security: CURVE, ZAP and roles")
struct SecurityTests {
    let keys: TestKeys
    let broker: TestBroker

    init() throws {
        keys = try TestKeys()
        try keys.add("admin", role: "admin")
        try keys.add("ralph", role: "controller")
        try keys.add("dev1", role: "agent", services: ["dev"])
        try keys.add("watcher", role: "reader")
        broker = try TestBroker(configure: keys.configure)
    }

    @Test("api: a plain peer and an unknown key get no answer; a known key is served")
    func apiHandshake() throws {
        #expect(try broker.client(keys.keys("admin")).call("broker:ping")["version"] != nil)
        for refused in [nil, try keys.unknown()] {
            do {
                _ = try broker.client(refused, timeoutMs: 700).call("broker:ping")
                Issue.record("a \(refused == nil ? "plain" : "unknown-key") client was answered")
            } catch {
                guard case .unreachable(_, _, _, let secured) = error else { throw error }
                #expect(secured == (refused != nil))
                #expect(error.description.contains(refused == nil ? "CURVE keys" : "the broker may not know this key"))
            }
        }
    }

    @Test("events: only a known key receives events; an unknown key's handshake is reported as auth:denied")
    func eventsHandshake() throws {
        let admin = try keys.keys("admin")
        let known = try broker.subscriber(keys.keys("watcher"), prefixes: ["session:created"])
        let plain = try broker.subscriber(nil, prefixes: ["session:created"])
        let unknown = try broker.subscriber(try keys.unknown(), prefixes: ["session:created"])
        let denials = try broker.subscriber(admin, prefixes: ["auth:denied"])
        // Subscriptions travel after the handshake: create sessions until the known subscriber hears one.
        var heard: ReceivedEvent?
        for _ in 0..<40 where heard == nil {
            _ = try broker.client(admin).call("session:create", ["type": "dev", "featureId": "f"])
            heard = try known.next(timeoutMs: 100)
        }
        #expect(heard?.topic == "session:created")
        #expect(try plain.next(timeoutMs: 300) == nil)
        #expect(try unknown.next(timeoutMs: 300) == nil)
        // A fresh unknown key on the api endpoint, now that the admin's subscription is surely live.
        _ = try? broker.client(try keys.unknown(), timeoutMs: 300).call("broker:ping")
        var denial: ReceivedEvent?
        while denial == nil, let event = try denials.next(timeoutMs: 2_000) {
            if event.body["reason"]?.stringValue == "unknown key" { denial = event }
        }
        #expect(denial?.body["endpoint"]?.stringValue != nil)
        #expect(denial?.body["key"]?.stringValue?.count == 8)
    }

    @Test("workers: a plain peer and an unknown key get no HEARTBEAT; an agent key for its service attaches")
    func workersHandshake() throws {
        let plain = try RawWorker(broker, service: "dev", name: "plain")
        let unknown = try RawWorker(broker, service: "dev", name: "unknown", curve: try keys.unknown())
        let reader = try RawWorker(broker, service: "dev", name: "reader", curve: try keys.keys("watcher"))
        let dev = try RawWorker(broker, service: "dev", name: "dev1", curve: try keys.keys("dev1"))
        try dev.stayAlive(milliseconds: 600)
        let list = try broker.client(keys.keys("admin")).call("worker:list")
        let names = (list["workers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names == ["dev1"])
        for refused in [plain, unknown, reader] {
            try refused.socket.setReceiveTimeout(milliseconds: 300)
            #expect(try refused.socket.receive() == nil)
        }
    }

    @Test("roles: each role against methods it may and may not call")
    func roleMatrix() throws {
        let admin = broker.client(try keys.keys("admin"))
        let sessionId = try #require(
            try admin.call("session:create", ["type": "dev", "featureId": "f"])["sessionId"]?.stringValue)
        func params(_ method: String) -> JSONObject {
            switch method {
            case "session:delete":
                let id = try? admin.call("session:create", ["type": "dev", "featureId": "f"])["sessionId"]
                return ["sessionId": id ?? .null]
            case "export:open": return ["kind": "backup"]
            case "import:begin": return ["bytes": 10]
            case "job:submit": return ["service": "dev", "payload": ["x": 1]]
            case "session:addMessage": return ["sessionId": .string(sessionId), "role": "user", "content": "hi"]
            case "events:since": return ["seq": 0]
            default: return [:]
            }
        }
        let methods = ["session:delete", "export:open", "import:begin", "job:submit", "session:addMessage", "events:since"]
        let allowed: [String: Set<String>] = [
            "admin": Set(methods),
            "ralph": ["job:submit", "session:addMessage", "events:since"],
            "dev1": ["session:addMessage", "events:since"],
            "watcher": ["events:since"],
        ]
        let roles = ["admin": "admin", "ralph": "controller", "dev1": "agent", "watcher": "reader"]
        for (name, may) in allowed {
            let client = broker.client(try keys.keys(name))
            for method in methods {
                var refusal: RPCError?
                do { _ = try client.call(method, params(method)) } catch {
                    guard case .rpc(let rpcError) = error else { throw error }
                    refusal = rpcError
                }
                if may.contains(method) {
                    // Allowed means past authorization: the call succeeds or fails for its own reasons.
                    #expect(refusal?.kind != .unauthorized, "\(name) \(method): \(String(describing: refusal))")
                    if method != "import:begin" { #expect(refusal == nil, "\(name) \(method): \(String(describing: refusal))") }
                } else {
                    #expect(refusal?.kind == .unauthorized, "\(name) \(method) was not refused")
                    #expect(refusal?.kind.code == -32004)
                    #expect(refusal?.details["method"]?.stringValue == method)
                    #expect(refusal?.details["role"]?.stringValue == roles[name])
                    #expect(refusal?.message.contains("role '\(roles[name]!)'") == true)
                }
            }
        }
    }

    @Test("a dev key attaches as dev, gets DISCONNECT as qa, and a qa job is never sent to it")
    func workerServices() throws {
        let admin = broker.client(try keys.keys("admin"))
        let asQA = try RawWorker(broker, service: "qa", name: "sneaky", curve: try keys.keys("dev1"))
        let refusal = try asQA.next(timeoutMs: 2_000)
        #expect(refusal?.0 == .disconnect)
        let job = try #require(
            try admin.call("job:submit", ["service": "qa", "payload": ["checks": ["true"]]])["jobId"]?.stringValue)
        // The refused worker says READY again, as a reconnecting worker would; it is never given the job.
        try asQA.send(.ready, [Array("qa".utf8), JSON.object(["name": "sneaky"]).serialized])
        let second = try asQA.next(timeoutMs: 1_000)
        #expect(second?.0 != .request)
        #expect(try admin.call("job:get", ["jobId": .string(job)])["state"]?.stringValue == "queued")
        let asDev = try RawWorker(broker, service: "dev", name: "dev1", curve: try keys.keys("dev1"))
        let devJob = try #require(
            try admin.call("job:submit", ["service": "dev", "payload": ["task": "t"]])["jobId"]?.stringValue)
        let request = try #require(try asDev.nextRequest())
        #expect(request.jobId == devJob)
    }

    @Test("a worker that chooses its own routing id is refused on a secured broker, so no other key can take it over")
    func chosenRoutingIDRefused() throws {
        try keys.add("qa1", role: "agent", services: ["qa"])
        broker.broker.reloadKeys()
        let admin = broker.client(try keys.keys("admin"))
        let chosen = try RawWorker(
            broker, service: "qa", name: "qa1", curve: try keys.keys("qa1"), routingID: Array("victim-worker".utf8))
        #expect(try chosen.next(timeoutMs: 2_000)?.0 == .disconnect)
        #expect((try admin.call("worker:list")["workers"]?.arrayValue ?? []).isEmpty)
        let job = try #require(
            try admin.call("job:submit", ["service": "qa", "payload": ["checks": ["true"]]])["jobId"]?.stringValue)
        try chosen.send(.ready, [Array("qa".utf8), JSON.object(["name": "qa1"]).serialized])
        #expect(try chosen.next(timeoutMs: 1_000)?.0 != .request)
        #expect(try admin.call("job:get", ["jobId": .string(job)])["state"]?.stringValue == "queued")
        // The same key with the id libzmq assigns is served.
        let assigned = try RawWorker(broker, service: "qa", name: "qa1", curve: try keys.keys("qa1"))
        #expect(try assigned.nextRequest()?.jobId == job)
    }

    @Test("reload: a removed reader is refused from its next request on, others keep working")
    func revocation() throws {
        let reader = broker.client(try keys.keys("watcher"))
        let admin = broker.client(try keys.keys("admin"))
        #expect(try reader.call("session:list")["sessions"] != nil)
        let devWorker = try RawWorker(broker, service: "dev", name: "dev1", curve: try keys.keys("dev1"))
        try devWorker.stayAlive(milliseconds: 400)
        try keys.revoke("watcher")
        try keys.revoke("dev1")
        #expect(broker.broker.reloadKeys())
        // The same connection, already through its handshake: refused by the key it carries.
        do {
            _ = try reader.call("session:list")
            Issue.record("a removed key was served")
        } catch {
            guard case .rpc(let rpcError) = error else { throw error }
            #expect(rpcError.kind == .unauthorized)
            #expect(rpcError.message.contains("no longer authorized"))
        }
        #expect(try admin.call("session:list")["sessions"] != nil)
        // The revoked worker is told DISCONNECT and dropped.
        #expect(try devWorker.next(timeoutMs: 2_000)?.0 == .disconnect)
        let workers = try admin.call("worker:list")["workers"]?.arrayValue ?? []
        #expect(workers.isEmpty)
    }

    @Test("reload: a removed key's subscriber stops receiving events; a kept one receives again after the rebind")
    func revocationOfSubscribers() throws {
        let admin = broker.client(try keys.keys("admin"))
        let kept = try broker.subscriber(keys.keys("admin"), prefixes: ["session:created"])
        let removed = try broker.subscriber(keys.keys("watcher"), prefixes: ["session:created"])
        func createUntilHeard(by subscriber: EventSubscriber) throws -> Bool {
            for _ in 0..<60 {
                _ = try admin.call("session:create", ["type": "dev", "featureId": "f"])
                if try subscriber.next(timeoutMs: 100) != nil { return true }
            }
            return false
        }
        #expect(try createUntilHeard(by: kept))
        #expect(try createUntilHeard(by: removed))
        try keys.revoke("watcher")
        broker.broker.reloadKeys()
        #expect(try createUntilHeard(by: kept), "the kept subscriber did not reconnect after the rebind")
        while try removed.next(timeoutMs: 200) != nil {}  // events sent before the rebind
        for _ in 0..<10 { _ = try admin.call("session:create", ["type": "dev", "featureId": "f"]) }
        #expect(try removed.next(timeoutMs: 500) == nil)
    }

    @Test("refusals are rate-limited: the same refusal once a minute, at most 20 reports per 10 s, the rest counted")
    func denialsAreRateLimited() throws {
        let watcher = broker.client(try keys.keys("watcher"))
        let denials = try broker.subscriber(keys.keys("admin"), prefixes: ["auth:denied"])
        let refused = [
            "session:create", "session:delete", "session:addMessage", "session:updateCheckpoint", "session:setContext",
            "session:setAgentDescription", "session:clearMessages", "session:reset", "session:buildRequest",
            "session:compact", "session:previewCompaction", "job:submit", "job:cancel", "task:create", "task:update",
            "task:recordIteration", "export:open", "export:read", "export:close", "import:begin", "import:write",
            "import:commit", "import:abort",
        ]
        // Each method is another refusal; the subscription is live once one of them arrives.
        var live = false
        var used = 0
        while !live && used < 10 {
            _ = try? watcher.call(refused[used], [:])
            used += 1
            live = try denials.next(timeoutMs: 200) != nil
        }
        #expect(live)
        // A flood: every refused method, many times over.
        for round in 0..<200 { _ = try? watcher.call(refused[round % refused.count], [:]) }
        var bodies: [JSON] = []
        while let event = try denials.next(timeoutMs: 300) { bodies.append(event.body) }
        #expect(bodies.count + 1 <= 20, "\(bodies.count + 1) auth:denied events in one window")
        #expect(Set(bodies.compactMap { $0["method"]?.stringValue }).count == bodies.count, "a refusal repeated")
        let all = try broker.client(try keys.keys("admin")).call("events:since", ["seq": 0, "topic": "auth:denied"])
        #expect((all["events"]?.arrayValue.map(\.count) ?? 0) <= 20)
        // What was held back is counted in the next report, a window later.
        usleep(10_200_000)
        _ = try? watcher.call("worker:list", [:])  // allowed: not a refusal
        _ = try? broker.client(try keys.unknown(), timeoutMs: 300).call("broker:ping")
        let next = try denials.next(timeoutMs: 2_000)
        #expect((next?.body["suppressed"]?.intValue ?? 0) > 150, "\(String(describing: next?.body))")
    }
}

/// The agents as users deploy them against a secured broker.
@Suite("security: agents over CURVE")
struct AgentSecurityTests {
    @Test("qa-agent with its certificate (services qa) attaches and serves a job; with a dev-only key it is never attached")
    func qaAgentOverCurve() throws {
        let keys = try TestKeys()
        try keys.add("admin", role: "admin")
        try keys.add("qa1", role: "agent", services: ["qa"])
        try keys.add("dev1", role: "agent", services: ["dev"])
        let agents = try AgentProcesses(keys: keys)
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["pass.sh": "echo fine\n"])
        try agents.createTask("t-qa", feature: "qa", title: "One check", checks: ["sh pass.sh"], repo: repo)
        try agents.createSession("t-qa-qa", type: "qa", feature: "qa", task: "t-qa")
        let wrong = try agents.start("qa", name: "qa-with-dev-key", key: "dev1")
        try agents.start("qa", name: "qa-with-qa-key", key: "qa1")
        try agents.waitForWorkers(["qa": 1])
        let job = try agents.runJob("qa", ["taskId": "t-qa", "iteration": 1, "sessionId": "t-qa-qa"], jobId: "t-qa:qa:1")
        #expect(job["state"] == "completed", "\(agents.explain(job))")
        #expect(job["result"]?["passed"] == true)
        let workers = try agents.call("worker:list")["workers"]?.arrayValue ?? []
        #expect(workers.compactMap { $0["name"]?.stringValue } == ["qa-with-qa-key"])
        #expect(wrong.isRunning, "a refused agent keeps trying, as after a broker restart")
        let log = agents.logs()
        #expect(log.contains("this key may not serve 'qa'"), "\(log)")
    }
}
