import BrokerClient
import BrokerProtocol
import Foundation
import SQLite
import Testing

/// Helpers of the portability suites (Protocols/AGENTBROKER-PORTABILITY.md): brokerctl against a TestBroker,
/// the transfer methods driven directly, a broker filled with every kind of row, and a database file read
/// row by row with the SQLite module.
extension TestBroker {
    var databasePath: String { directory + "/broker.db" }

    /// Runs the real brokerctl against this broker.
    func ctl(_ arguments: [String], stdin: String? = nil, timeout: Double = 60) throws -> Processes.Output {
        try Processes.run("brokerctl", arguments + ["--api", endpoints.api], stdin: stdin, timeout: timeout)
    }

    /// Runs a shell pipeline (`sh -c`) in which `$CTL` is brokerctl and `$API` this broker's endpoint.
    func shell(_ script: String, stdin: String? = nil) throws -> Processes.Output {
        try Processes.run(
            "/bin/sh", ["-c", script], stdin: stdin,
            environment: [
                "CTL": Processes.productsDirectory.appendingPathComponent("brokerctl").path, "API": endpoints.api,
            ])
    }

    /// A whole document through `export:open` and `export:read` (pieces of `maxBytes`).
    func exportDocument(_ params: JSONObject, maxBytes: Int = 1 << 20) throws -> (
        opened: JSON, text: String, last: JSON, pieces: Int
    ) {
        let client = self.client(timeoutMs: 30_000)
        let opened = try client.call("export:open", params)
        let id = try #require(opened["exportId"]?.stringValue)
        var text = ""
        var pieces = 0
        while true {
            let piece = try client.call("export:read", ["exportId": .string(id), "maxBytes": .int(maxBytes)])
            text += try #require(piece["data"]?.stringValue)
            pieces += 1
            if piece["done"] == true { return (opened, text, piece, pieces) }
            guard pieces < 100_000 else { throw TestFailure("export:read never said done") }
        }
    }

    /// Uploads `text` through `import:begin`, `import:write` (pieces of whole lines) and `import:commit`.
    func importText(_ text: String, kind: String, clear: Bool = false) throws -> Result<JSON, RPCError> {
        let client = self.client(timeoutMs: 30_000)
        var begin: JSONObject = ["kind": .string(kind)]
        if clear { begin["clear"] = true }
        let id = try #require(try client.call("import:begin", begin)["importId"]?.stringValue)
        var seq: Int64 = 0
        var piece = ""
        func send() throws {
            _ = try client.call("import:write", ["importId": .string(id), "seq": .int(seq), "data": .string(piece)])
            seq += 1
            piece = ""
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.offset > 0 { piece += "\n" }
            piece += line.element
            if piece.utf8.count >= 16 << 10 { try send() }
        }
        if !piece.isEmpty || seq == 0 { try send() }
        do {
            return .success(try client.call("import:commit", ["importId": .string(id)]))
        } catch {
            guard case .rpc(let rpcError) = error else { throw error }
            return .failure(rpcError)
        }
    }

    /// The refusal of an import that must fail (the test fails if it was accepted).
    func importRefusal(_ text: String, kind: String = "backup", clear: Bool = false) throws -> RPCError {
        switch try importText(text, kind: kind, clear: clear) {
        case .success(let result): throw TestFailure("the import was accepted: \(result.serializedString)")
        case .failure(let error): return error
        }
    }

    /// Every row of the broker's database, read from the file (see `DatabaseRows`).
    func rows() throws -> DatabaseRows { try DatabaseRows(path: databasePath) }
}

/// Every row of the tables a backup carries, read straight from a database file, as comparable text.
///
/// Rows are rendered with SQL `quote()` (type and value exactly: 5 is not '5'), column by column. Row
/// numbers are left out and a session's rowid is replaced by its id, so two databases that hold the
/// same data in another insertion order compare equal. `request_results` (idempotency records) and
/// `meta` (the token counter's name) are not in a backup (AGENTBROKER-PORTABILITY section 6), so they
/// are not read.
struct DatabaseRows {
    static let tables = [
        "sessions", "session_state", "messages", "checkpoints", "compactions", "jobs", "tasks", "task_iterations",
        "events",
    ]
    /// Table → rows as text, sorted.
    var tables: [String: [String]] = [:]
    /// Table → row count.
    var counts: [String: Int] { tables.mapValues(\.count) }

    init(path: String) throws {
        let db = try Connection(path: path, readOnly: true)
        try db.execute("BEGIN")
        defer { try? db.execute("COMMIT") }
        var sessionIds: [String: String] = [:]
        let sessions = try db.statement("SELECT rowid, id FROM sessions")
        while try sessions.step() { sessionIds[String(sessions.int(0))] = "'\(sessions.text(1))'" }
        for table in Self.tables {
            var columns: [String] = []
            let info = try db.statement("PRAGMA table_info(\(table))")
            while try info.step() { columns.append(info.text(1)) }
            let kept = columns.filter { $0 != "rowid" }
            let select = try db.statement(
                "SELECT \(kept.map { "quote(\($0))" }.joined(separator: ", ")) FROM \(table)")
            var rows: [String] = []
            while try select.step() {
                var cells: [String] = []
                for (index, column) in kept.enumerated() {
                    var value = select.text(Int32(index))
                    if column == "session" { value = sessionIds[value] ?? "unknown session rowid \(value)" }
                    cells.append("\(column)=\(value)")
                }
                rows.append(cells.joined(separator: " | "))
            }
            tables[table] = rows.sorted()
        }
    }

    /// The events (rendered rows) with a seq at most `seq`.
    func events(through seq: Int64) -> [String] {
        (tables["events"] ?? []).filter { row in
            guard let value = row.split(separator: " | ").first?.dropFirst("seq=".count), let number = Int64(value)
            else { return false }
            return number <= seq
        }
    }
}

/// Expects two lists of rows to be equal, naming the rows that differ (not two walls of text).
func expectSameRows(
    _ table: String, _ original: [String], _ copy: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    let missing = original.filter { !copy.contains($0) }
    let extra = copy.filter { !original.contains($0) }
    #expect(
        missing.isEmpty && extra.isEmpty && original.count == copy.count,
        "\(table): \(original.count) rows vs \(copy.count); only in the original: \(missing.prefix(3)); only in the copy: \(extra.prefix(3))",
        sourceLocation: sourceLocation)
}

/// What `PortabilityData.fill` put in a broker.
struct PortabilityData {
    /// A dev session with names, tool calls, usage metadata, two compactions and several checkpoint versions.
    var dev = ""
    /// A session with awkward text, archived by `session:clearMessages` (no compaction).
    var qa = ""
    /// A session with nothing in it.
    var bare = ""

    /// Text that JSON must escape, and characters of every UTF-8 length.
    static let awkward =
        "tab\there \"quoted\" back\\slash\nnew line, NUL \u{0} and \u{1F}, é ✓ 🎉, U+2028 \u{2028}, </script>"

    /// Fills `broker` with sessions, messages (archived ones too), checkpoints, compactions, jobs (all final),
    /// tasks and iterations; every write logs events.
    static func fill(_ broker: TestBroker) throws -> PortabilityData {
        var data = PortabilityData()
        data.dev = try broker.createSession(
            type: "dev", feature: "F-7",
            extra: [
                "sessionId": "ralph-42", "taskId": "T-3", "state": "in_dev", "tokenLimit": 50_000,
                "context": ["repo": "agentbroker", "depth": 2, "ratio": 0.25],
                "agentDescription": "You write Swift.",
            ])
        func add(_ session: String, _ params: JSONObject) throws {
            var params = params
            params["sessionId"] = .string(session)
            try broker.call("session:addMessage", params)
        }
        try add(data.dev, ["role": "system", "content": "You are Dev."])
        try add(data.dev, ["role": "user", "content": "Write the parser.", "messageId": "ralph-42-m1"])
        try add(
            data.dev,
            [
                "role": "assistant", "content": "DECISION: hand-written scanner", "name": "planner",
                "metadata": ["usage": ["inputTokens": 812, "outputTokens": 3, "costUsd": 0.0012], "model": "m-1"],
            ])
        try add(
            data.dev,
            [
                "role": "tool", "content": "exit 0", "name": "shell", "toolCallId": "call-1",
                "metadata": ["exit": 0, "nested": ["a": [1, 2.5, "x", nil, true]]],
            ])
        try broker.call(
            "session:updateCheckpoint",
            [
                "sessionId": .string(data.dev), "summary": "started", "completed": ["plan"], "pending": ["parser"],
                "decisions": ["use SQLite"], "blockers": ["CI is down"],
            ])
        let compacted = try broker.client(timeoutMs: 30_000).call(
            "session:compact", ["sessionId": .string(data.dev), "instructions": "keep the decisions"])
        #expect((compacted["archivedCount"]?.intValue ?? 0) > 0, "\(compacted)")
        try add(
            data.dev,
            [
                "role": "assistant", "content": "DONE: parser", "name": "coder",
                "metadata": ["usage": ["inputTokens": 1_000, "outputTokens": 250, "costUsd": 0.5]],
            ])
        try add(data.dev, ["role": "user", "content": "TODO: writer"])
        // Enough said since the last compaction for the next one to make the request smaller (it is refused
        // otherwise).
        try add(
            data.dev,
            [
                "role": "assistant",
                "content": .string(
                    String(repeating: "The scanner reads the header, then each record, and reports offsets. ", count: 12)),
            ])
        _ = try broker.client(timeoutMs: 30_000).call("session:compact", ["sessionId": .string(data.dev)])
        try add(data.dev, ["role": "assistant", "content": "Working on the writer.", "name": "planner"])
        try broker.call(
            "session:setContext", ["sessionId": .string(data.dev), "context": ["repo": "agentbroker", "branch": "b"]])
        try broker.call(
            "session:setAgentDescription", ["sessionId": .string(data.dev), "agentDescription": ["role": "dev"]])

        data.qa = try broker.createSession(type: "qa", feature: "F-7")
        try add(data.qa, ["role": "user", "content": .string(awkward)])
        try add(data.qa, ["role": "assistant", "content": "", "metadata": ["big": 9_007_199_254_740_993]])
        try broker.call("session:clearMessages", ["sessionId": .string(data.qa)])
        try add(data.qa, ["role": "user", "content": "after the clear"])
        try broker.call("session:updateCheckpoint", ["sessionId": .string(data.qa), "pending": ["review"]])

        data.bare = try broker.createSession(type: "pm", feature: "F-8")

        // Jobs, all final: one completed by a worker, one failed by it, one cancelled in its queue.
        let worker = try RawWorker(broker, service: "echo")
        try broker.call("job:submit", ["service": "echo", "jobId": "job-done", "payload": ["text": "hi", "n": 1.5]])
        let first = try #require(try worker.nextRequest())
        try worker.reply(first.jobId, result: ["echo": "hi"])
        #expect(try broker.waitForJob("job-done")["state"] == "completed")
        try broker.call("job:submit", ["service": "echo", "jobId": "job-failed", "maxAttempts": 1])
        let second = try #require(try worker.nextRequest())
        try worker.send(
            .reply, [Array(second.jobId.utf8), [], JSON.object(["ok": false, "error": "boom"]).serialized])
        #expect(try broker.waitForJob("job-failed")["state"] == "failed")
        try broker.call("job:submit", ["service": "nobody", "jobId": "job-cancelled", "payload": [1, 2, 3]])
        try broker.call("job:cancel", ["jobId": "job-cancelled"])
        // The worker leaves now, so its worker:detached event is logged before the test looks at the events.
        try worker.send(.disconnect)
        try broker.waitForWorkers("echo", count: 0)
        for _ in 0..<200 where try broker.events("worker:detached").isEmpty { usleep(10_000) }
        #expect(try broker.events("worker:detached").count == 1)

        try broker.call(
            "task:create",
            [
                "taskId": "T-3", "featureId": "F-7", "title": "parser", "description": "write it",
                "checks": ["swift build", ["name": "tests", "command": "swift test", "timeoutMs": 60_000]],
                "workspace": ["repo": "/tmp/r", "baseBranch": "feature/F-7", "branch": "task/T-3"],
            ])
        try broker.call("task:create", ["taskId": "T-4", "featureId": "F-7", "title": "writer", "dependsOn": ["T-3"]])
        try broker.call("task:update", ["taskId": "T-3", "state": "in_dev", "iteration": 1, "sessionId": "ralph-42"])
        try broker.call("task:update", ["taskId": "T-3", "state": "in_qa", "sessionId": .string(data.qa)])
        try broker.call(
            "task:recordIteration", ["taskId": "T-3", "iteration": 1, "results": ["passed": false, "checks": []]])
        try broker.call("task:update", ["taskId": "T-3", "state": "in_dev", "iteration": 2])
        try broker.call("task:recordIteration", ["taskId": "T-3", "iteration": 2, "results": ["passed": true]])
        try broker.call("task:update", ["taskId": "T-4", "state": "failed", "failureReason": "blocked"])
        return data
    }
}

extension JSON {
    /// The string member `key` of an object ("" when absent).
    func text(_ key: String) -> String { self[key]?.stringValue ?? "" }
}

/// Lines of a JSONL text, parsed.
func jsonLines(_ text: String) throws -> [JSON] {
    try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
}

/// A temporary directory for the files of one test.
func scratchDirectory() -> String { TestBroker.makeDirectory() }

extension String {
    /// Writes the string to `path` (UTF-8).
    func save(_ path: String) throws { try write(toFile: path, atomically: false, encoding: .utf8) }
}

/// The text of a file (UTF-8).
func readText(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

/// A file's permission bits.
func fileMode(_ path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
}
