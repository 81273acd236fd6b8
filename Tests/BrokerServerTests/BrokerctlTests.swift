import BrokerProtocol
import Foundation
import Testing

/// The real `brokerctl` executable against a real broker.
@Suite("brokerctl")
struct BrokerctlTests {
    @Test("sessions: create, add, messages, show, checkpoint, context, ls, clear, rm — tables and --json")
    func sessionCommands() throws {
        let broker = try TestBroker()
        let api = ["--api", broker.endpoints.api]
        func ctl(_ arguments: [String], stdin: String? = nil) throws -> Processes.Output {
            try Processes.run("brokerctl", arguments + api, stdin: stdin)
        }
        let created = try ctl([
            "session", "create", "--type", "dev", "--feature", "feat-9", "--task", "t1", "--context",
            #"{"repo":"demo"}"#,
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("ses_"))
        #expect(try ctl(["session", "add", id, "hello from the CLI"]).status == 0)
        #expect(try ctl(["session", "add", id, "--role", "assistant", "-"], stdin: "from stdin").status == 0)
        let messages = try ctl(["session", "messages", id])
        #expect(messages.stdout.contains("hello from the CLI") && messages.stdout.contains("from stdin"))
        let json = try ctl(["session", "messages", id, "--json"])
        let parsed = try JSONParser.parse(json.stdout)
        #expect(parsed.arrayValue?.count == 2)
        #expect(try ctl(["session", "show", id]).stdout.contains("feat-9"))
        let listed = try ctl(["session", "ls", "--feature", "feat-9"])
        #expect(listed.stdout.contains("SESSION") && listed.stdout.contains(id))
        let checkpoint = try ctl(["session", "checkpoint", id, "--pending", "write docs", "--decisions", "use zmq"])
        #expect(checkpoint.stdout.contains("[ ] write docs"))
        #expect(try ctl(["session", "checkpoint", id, "--json"]).stdout.contains("\"version\": 1"))
        #expect(try ctl(["session", "context", id]).stdout.contains("demo"))
        #expect(try ctl(["session", "clear", id]).stdout.contains("archived 2"))
        #expect(try ctl(["session", "messages", id, "--archived"]).stdout.contains("(archived)"))
        #expect(try ctl(["session", "rm", id]).status == 0)
        let gone = try ctl(["session", "show", id])
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("does not exist"))
    }

    @Test("exit codes: 0 done, 1 broker error, 2 usage, 3 unreachable")
    func exitCodes() throws {
        let broker = try TestBroker()
        #expect(try Processes.run("brokerctl", ["ping", "--api", broker.endpoints.api]).status == 0)
        #expect(
            try Processes.run("brokerctl", ["stats", "--api", broker.endpoints.api, "--json"]).stdout.contains(
                "requestsServed"))
        #expect(
            try Processes.run("brokerctl", ["session", "show", "ses_none", "--api", broker.endpoints.api]).status == 1)
        #expect(try Processes.run("brokerctl", ["session", "frobnicate"]).status == 2)
        #expect(try Processes.run("brokerctl", ["session", "create", "--type", "dev"]).status == 2)
        let start = Date()
        let unreachable = try Processes.run(
            "brokerctl", ["ping", "--api", "tcp://127.0.0.1:9", "--timeout", "0.2", "--retries", "2"])
        #expect(unreachable.status == 3)
        #expect(unreachable.stderr.contains("no reply"))
        #expect(Date().timeIntervalSince(start) < 10)
        let fromEnvironment = try Processes.run(
            "brokerctl", ["ping"], environment: ["BROKER_API": broker.endpoints.api])
        #expect(fromEnvironment.status == 0)
    }

    @Test("events prints live events, filtered by prefix, and replays with --since")
    func events() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "summary": "x"])
        let replay = try Processes.run(
            "brokerctl",
            [
                "events", "checkpoint:", "--since", "0", "--count", "1", "--json", "--api", broker.endpoints.api,
                "--events", broker.endpoints.events,
            ], timeout: 20)
        #expect(replay.status == 0)
        let event = try JSONParser.parse(replay.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(event["topic"] == "checkpoint:updated" && event["sessionId"] == .string(id))

        // Live: keep writing until the subscriber (joining late, as SUB does) prints one.
        let done = Counter()
        let writer = Thread {
            while done.value == 0 {
                _ = try? broker.call(
                    "session:addMessage", ["sessionId": .string(id), "role": "user", "content": "live"])
                usleep(50_000)
            }
        }
        writer.start()
        let live = try Processes.run(
            "brokerctl",
            [
                "events", "session:message", "--count", "2", "--events", broker.endpoints.events,
            ], timeout: 20)
        done.add()
        #expect(live.status == 0)
        #expect(live.stdout.split(separator: "\n").count == 2)
        #expect(live.stdout.contains("session:message"))
    }

    @Test("tokens count is exact (cl100k_base) for files and standard input, with --ids")
    func tokensCount() throws {
        let out = try Processes.run("brokerctl", ["tokens", "count", "--json", "--ids"], stdin: "hello world, 你好")
        let parsed = try JSONParser.parse(out.stdout)
        #expect(parsed["tokens"] == 6 && parsed["exact"] == true)
        #expect(parsed["ids"] == [15339, 1917, 11, 220, 57668, 53901])
        let file = TestBroker.makeDirectory() + "/doc.txt"
        try "The quick brown fox".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try Processes.run("brokerctl", ["tokens", "count", file]).stdout == "4\n")
        #expect(try Processes.run("brokerctl", ["tokens", "count", "/nonexistent/file"]).status == 2)
        let approximate = try Processes.run(
            "brokerctl", ["tokens", "count", "--json"], stdin: "hello",
            environment: ["AGENTBROKER_TOKEN_RANKS": "/nonexistent"])
        #expect(approximate.status == 0)
        #expect(try JSONParser.parse(approximate.stdout)["exact"] == false)
        #expect(approximate.stderr.contains("approximate"))
    }
}

@Suite("brokerctl requests and compaction")
struct BrokerctlCompactionTests {
    @Test("session request (--preview table), compact --dry-run, compact, compactions, checkpoint show --version")
    func requestAndCompactionCommands() throws {
        let broker = try TestBroker()
        func ctl(_ arguments: [String]) throws -> Processes.Output {
            try Processes.run("brokerctl", arguments + ["--api", broker.endpoints.api])
        }
        let id = try broker.createSession(extra: ["agentDescription": "You are QA."])
        try broker.call("session:updateCheckpoint", ["sessionId": .string(id), "pending": ["run the checks"]])
        #expect(try broker.addMessages(id, (0..<6).map { (role: "user", content: "DECISION: option \($0)") }) == 0)
        let preview = try ctl(["session", "request", id, "--preview", "--message", "what next?"])
        #expect(preview.status == 0, "\(preview.stderr)")
        for part in ["agent description", "context", "checkpoint", "messages", "user prompt", "total"] {
            #expect(preview.stdout.contains(part))
        }
        let built = try ctl(["session", "request", id, "--message", "what next?"])
        #expect(built.stdout.contains("# Agent description") && built.stdout.contains("what next?"))
        let dryRun = try ctl(["session", "compact", id, "--dry-run"])
        #expect(dryRun.stdout.contains("would archive 6 messages"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("* option 5"))
        #expect(try broker.call("session:get", ["sessionId": .string(id)])["checkpointVersion"] == 1)
        let compacted = try ctl(["session", "compact", id, "--instructions", "be brief", "--json"])
        #expect(try JSONParser.parse(compacted.stdout)["archivedCount"] == 6, "\(compacted.stderr)")
        let history = try ctl(["session", "compactions", id])
        #expect(history.stdout.contains("manual") && history.stdout.contains("1-6"))
        let old = try ctl(["checkpoint", "show", id, "--version", "1"])
        #expect(old.stdout.contains("[ ] run the checks") && !old.stdout.contains("option 5"))
        #expect(try ctl(["checkpoint", "show", id]).stdout.contains("* option 5"))
        #expect(try ctl(["session", "compact", "no-such-session"]).status == 1)
    }
}
