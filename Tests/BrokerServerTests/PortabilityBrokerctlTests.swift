import BrokerProtocol
import Foundation
import SQLite
import SessionCore
import Testing

/// Backups, session exports and trace bundles the way a user makes them: the real brokerctl against real
/// brokers, real files, and the system's gunzip and jq (Protocols/AGENTBROKER-PORTABILITY.md).
@Suite("PortabilityBrokerctl")
struct PortabilityBrokerctlTests {
    @Test("brokerctl export then import into a fresh broker: every row of every table is the same")
    func backupRoundTrip() throws {
        let source = try TestBroker()
        let data = try PortabilityData.fill(source)
        let file = scratchDirectory() + "/backup.json"
        let exported = try source.ctl(["export", file, "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(try fileMode(file) == 0o600)
        let report = try JSONParser.parse(exported.stdout)
        #expect(report["path"] == .string(file))
        let document = try JSONParser.parse(try readText(file))
        #expect(document["format"] == "agentbroker.backup" && document["formatVersion"] == 2)
        #expect(document["exportedBy"]?.stringValue?.hasPrefix("brokerctl") == true)
        for section in PortableSections.all {
            let records = document[section]?.arrayValue ?? []
            #expect(document["stats"]?[section]?.intValue == Int64(records.count), "stats.\(section)")
            #expect(report["stats"]?[section]?.intValue == Int64(records.count), "printed stats.\(section)")
            #expect(!records.isEmpty, "the fill left \(section) empty")
        }
        let exportedEvents = document["events"]?.arrayValue ?? []
        let lastExportedSeq = try #require(exportedEvents.last?["seq"]?.intValue)

        let destination = try TestBroker()
        let imported = try destination.ctl(["import", file, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let result = try JSONParser.parse(imported.stdout)
        #expect(result["kind"] == "backup" && result["formatVersion"] == 2 && result["migrated"] == false)
        #expect(result["unrepresentable"] == 0)
        for section in PortableSections.all {
            #expect(result["stats"]?[section] == document["stats"]?[section], "imported \(section)")
        }

        // Row by row, every table a backup carries. request_results (idempotency records) and meta (the token
        // counter's name) are not exported: AGENTBROKER-PORTABILITY section 6.
        let original = try source.rows()
        let copy = try destination.rows()
        for table in DatabaseRows.tables where table != "events" {
            #expect(original.tables[table]?.isEmpty == false, "\(table) is empty: the fill did not reach it")
            expectSameRows(table, original.tables[table] ?? [], copy.tables[table] ?? [])
        }
        // The source's log as exported keeps its seqs; the destination adds one broker:imported after it.
        expectSameRows("events", original.events(through: lastExportedSeq), copy.events(through: lastExportedSeq))
        #expect(original.events(through: lastExportedSeq).count == exportedEvents.count)
        let added = try destination.call("events:since", ["seq": .int(lastExportedSeq)])["events"]?.arrayValue
        #expect(added?.map { $0["topic"] } == ["broker:imported"], "\(added ?? [])")

        // The recomputed counters serve the same answers.
        for id in [data.dev, data.qa, data.bare] {
            let params: JSONObject = ["sessionId": .string(id)]
            #expect(try source.call("session:get", params) == destination.call("session:get", params), "\(id)")
            let all: JSONObject = ["sessionId": .string(id), "includeArchived": true]
            #expect(try source.call("session:getMessages", all) == destination.call("session:getMessages", all))
            #expect(
                try source.call("session:estimateSize", params) == destination.call("session:estimateSize", params))
            let build: JSONObject = ["sessionId": .string(id), "userMessage": "next?"]
            #expect(try source.call("session:buildRequest", build) == destination.call("session:buildRequest", build))
        }
        for job in ["job-done", "job-failed", "job-cancelled"] {
            #expect(
                try source.call("job:get", ["jobId": .string(job)])
                    == destination.call("job:get", ["jobId": .string(job)]))
        }
        #expect(try source.call("task:get", ["taskId": "T-3"]) == destination.call("task:get", ["taskId": "T-3"]))
        // The destination goes on from there: in every session the next message follows the last seq and is active.
        // Regression: recount once reused its statements without a reset, so only the first session got its
        // next_seq, counts and token totals back; comparing session_state rows and adding a message catches it.
        for id in [data.dev, data.qa, data.bare] {
            let all: JSONObject = ["sessionId": .string(id), "includeArchived": true]
            let lastSeq = try source.call("session:getMessages", all)["messages"]?.arrayValue?.last?["seq"]?.intValue
            let next = try? destination.call(
                "session:addMessage", ["sessionId": .string(id), "role": "user", "content": "more"])
            #expect(next?["seq"]?.intValue == (lastSeq ?? 0) + 1, "\(id): \(String(describing: next))")
            let active = try destination.call("session:getMessages", ["sessionId": .string(id)])
            #expect(active["messages"]?.arrayValue?.last?["content"] == "more", "\(id)")
        }
    }

    @Test(
        "refused files leave the database untouched: truncated, corrupt, wrong-shaped, too new, wrong kind, ids taken")
    func importRefusals() throws {
        let broker = try TestBroker()
        _ = try PortabilityData.fill(broker)
        let directory = scratchDirectory()
        let file = directory + "/backup.json"
        #expect(try broker.ctl(["export", file, "--quiet"]).stdout == file + "\n")
        let text = try readText(file)
        let lines = text.components(separatedBy: "\n")
        let messageLines = lines.indices.filter {
            lines[$0].hasPrefix("{\"sessionId\":") && lines[$0].contains("\"messageId\"")
        }
        try #require(messageLines.count >= 5)
        let before = try broker.rows()

        func refused(
            _ name: String, _ contents: String, status: Int32 = 1, _ expected: [String],
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let path = directory + "/" + name
            try contents.save(path)
            let output = try broker.ctl(["import", path])
            #expect(output.status == status, "\(name): \(output.stderr)", sourceLocation: sourceLocation)
            for part in expected {
                #expect(output.stderr.contains(part), "\(name): \(output.stderr)", sourceLocation: sourceLocation)
            }
            #expect(output.stdout.isEmpty, "\(name): \(output.stdout)", sourceLocation: sourceLocation)
            let after = try broker.rows()
            for table in DatabaseRows.tables {
                expectSameRows(
                    "\(name): \(table)", before.tables[table] ?? [], after.tables[table] ?? [],
                    sourceLocation: sourceLocation)
            }
        }

        // Cut in the middle of messages[4]: found at the end of the file, with its line and column.
        let cutLine = messageLines[4]
        let kept = lines[..<cutLine].joined(separator: "\n") + "\n" + String(lines[cutLine].prefix(40))
        let column = 40 + 1
        try refused(
            "truncated.json", kept,
            [
                "truncated", "messages[4]", "line \(cutLine + 1), column \(column), byte \(kept.utf8.count)",
                "nothing was imported",
            ])

        var corrupt = lines
        corrupt[messageLines[3]] = corrupt[messageLines[3]].replacingOccurrences(of: "\"role\":\"", with: "\"role\" \"")
        try refused(
            "corrupt.json", corrupt.joined(separator: "\n"),
            ["not valid JSON", "messages[3]", "line \(messageLines[3] + 1)"])

        var shaped = lines
        let seqLine = shaped[messageLines[2]]
        let seq = try #require(
            try JSONParser.parse(seqLine.hasSuffix(",") ? String(seqLine.dropLast()) : seqLine)["seq"]?.intValue)
        shaped[messageLines[2]] = seqLine.replacingOccurrences(of: "\"seq\":\(seq),", with: "\"seq\":\"\(seq)\",")
        try refused("shaped.json", shaped.joined(separator: "\n"), ["messages[2].seq", "\"seq\" must be an integer"])

        try refused(
            "future.json", text.replacingOccurrences(of: "\"formatVersion\":2,", with: "\"formatVersion\":99,"),
            ["format version 99 is newer than this broker reads (2)", "upgrade AgentBroker"])

        let sessionFile = directory + "/session.json"
        #expect(
            try broker.ctl(["session", "export", "ralph-42", "--format", "json", "--out", sessionFile]).status == 0)
        try refused("session.json", try readText(sessionFile), ["agentbroker.session", "brokerctl session import"])

        // The file itself, into the broker it came from: every id is taken.
        try refused("same.json", text, ["'ralph-42'", "already exists", "--clear"])
        let conflict = try broker.importRefusal(text)
        #expect(
            conflict.kind == .conflict && conflict.details["section"] == "sessions"
                && conflict.details["id"] == "ralph-42")

        // Refused by brokerctl before anything is sent: usage errors (exit 2).
        let binary = directory + "/binary.json"
        try Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]).write(to: URL(fileURLWithPath: binary))
        let notText = try broker.ctl(["import", binary])
        #expect(notText.status == 2 && notText.stderr.contains("not valid UTF-8"), "\(notText.stderr)")
        #expect(try broker.ctl(["import", directory + "/missing.json"]).status == 2)
        #expect(try broker.ctl(["import"]).status == 2)
        #expect(try broker.rows().tables == before.tables)
        // No spool is left behind beside the database.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: broker.directory).filter {
            $0.hasSuffix(".spool")
        }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("a legacy file without a version and a format 1 file are migrated: limit becomes tokenLimit")
    func legacyAndVersion1() throws {
        let broker = try TestBroker()
        let directory = scratchDirectory()
        try LegacyFiles.versionless.save(directory + "/legacy.json")
        let legacy = try broker.ctl(["import", directory + "/legacy.json", "--json"])
        #expect(legacy.status == 0, "\(legacy.stderr)")
        let legacyResult = try JSONParser.parse(legacy.stdout)
        #expect(legacyResult["migrated"] == true && legacyResult["formatVersion"] == 1, "\(legacyResult)")
        #expect(legacyResult["stats"] == ["sessions": 1, "messages": 3, "checkpoints": 1, "events": 1])

        let session = try broker.call("session:get", ["sessionId": "old-1"])
        #expect(session["tokenLimit"] == 5_000 && session["type"] == "dev" && session["taskId"] == "t-1")
        #expect(
            session["createdAt"] == "2024-05-01T00:00:00.000Z" && session["updatedAt"] == "2024-05-01T10:00:02.500Z")
        #expect(session["messageCount"] == 2 && session["archivedCount"] == 1 && session["checkpointVersion"] == 1)
        let messages =
            try broker.call("session:getMessages", ["sessionId": "old-1", "includeArchived": true])["messages"]?
            .arrayValue ?? []
        #expect(messages.map { $0["content"] } == ["old", "hello", "world"])
        #expect(
            messages.map { $0["createdAt"] } == [
                "2024-05-01T09:00:00.000Z", "2024-05-01T10:00:00.000Z", "2024-05-01T08:00:01.000Z",
            ])
        // A message without token counts gets them counted.
        #expect(messages.allSatisfy { ($0["tokens"]?.intValue ?? 0) > 0 })
        #expect(try broker.call("session:getCheckpoint", ["sessionId": "old-1"])["pending"] == ["migrate"])

        try LegacyFiles.version1.save(directory + "/v1.json")
        let version1 = try broker.ctl(["import", directory + "/v1.json"])
        #expect(version1.status == 0, "\(version1.stderr)")
        #expect(version1.stdout.contains("(format version 1, migrated)"), "\(version1.stdout)")
        let migrated = try broker.call("session:get", ["sessionId": "old-2"])
        #expect(migrated["tokenLimit"] == 12_345 && migrated["messageCount"] == 1)
        // The current format is not "migrated".
        let file = directory + "/now.json"
        #expect(try broker.ctl(["export", file]).status == 0)
        let fresh = try TestBroker()
        #expect(try JSONParser.parse(try fresh.ctl(["import", file, "--json"]).stdout)["migrated"] == false)
        #expect(try fresh.call("session:get", ["sessionId": "old-2"])["tokenLimit"] == 12_345)
    }

    @Test("--clear: refused without a terminal and without --yes; asks on a terminal; --yes replaces everything")
    func clear() throws {
        let source = try TestBroker()
        _ = try PortabilityData.fill(source)
        let file = scratchDirectory() + "/backup.json"
        #expect(try source.ctl(["export", file]).status == 0)

        let target = try TestBroker()
        let mine = try target.createSession(type: "dev", feature: "mine")
        let before = try target.rows()
        let refused = try target.ctl(["import", file, "--clear"])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("--yes"))
        #expect(try target.rows().tables == before.tables)

        if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
            // `script` gives brokerctl a terminal, so it asks; "n" keeps everything, "y" replaces it.
            let command = "script -qec \"$CTL import \(file) --clear --api $API\" /dev/null"
            let no = try target.shell(command, stdin: "n\n")
            #expect(no.status == 2, "\(no.stdout) \(no.stderr)")
            #expect(no.stdout.contains("Continue? [y/N]") && no.stdout.contains("not confirmed"), "\(no.stdout)")
            #expect(try target.rows().tables == before.tables)
            let yes = try target.shell(command, stdin: "y\n")
            #expect(yes.status == 0, "\(yes.stdout) \(yes.stderr)")
            #expect(yes.stdout.contains("Imported"), "\(yes.stdout)")
            #expect(try target.error("session:get", ["sessionId": .string(mine)]).kind == .notFound)
            #expect(try target.call("session:get", ["sessionId": "ralph-42"])["taskId"] == "T-3")
        }

        let other = try target.createSession(type: "dev", feature: "other")
        let replaced = try target.ctl(["import", file, "--clear", "--yes", "--json"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try target.error("session:get", ["sessionId": .string(other)]).kind == .notFound)
        let sourceRows = try source.rows()
        let targetRows = try target.rows()
        for table in DatabaseRows.tables where table != "events" {
            expectSameRows(table, sourceRows.tables[table] ?? [], targetRows.tables[table] ?? [])
        }
        // The log restarts from the file's seqs, then the import's own event.
        let events = try target.call("events:since", ["seq": 0, "limit": 1_000])["events"]?.arrayValue ?? []
        #expect(events.first?["seq"] == 1 && events.last?["topic"] == "broker:imported")
        #expect(events.count == (sourceRows.tables["events"]?.count ?? 0) + 1)
    }

    @Test("session export: Markdown with every section, JSON that imports as a new session, a packet")
    func sessionExports() throws {
        let broker = try TestBroker()
        let data = try PortabilityData.fill(broker)
        try broker.call(
            "session:updateCheckpoint",
            [
                "sessionId": .string(data.dev), "completed": ["plan", "parser"], "pending": ["writer", "docs"],
                "decisions": ["use SQLite"], "blockers": ["CI is down"],
            ])
        let directory = scratchDirectory()

        let markdown = try broker.ctl(["session", "export", data.dev, "--format", "markdown"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        let text = markdown.stdout
        #expect(text.hasPrefix("# Session ralph-42\n"))
        for part in [
            "| Type | dev |", "| Feature | F-7 |", "| Task | T-3 |", "| State | in_dev |", "## Agent description",
            "\"role\":\"dev\"", "## Context", "\"branch\":\"b\"", "- [x] plan", "- [x] parser", "- [ ] writer",
            "- [ ] docs", "- use SQLite", "- ⚠ CI is down", "## Conversation", "· answers tool call call-1",
            "## Compaction history", "| manual |",
        ] {
            #expect(text.contains(part), "markdown lacks \(part)")
        }
        let session = try broker.call("session:get", ["sessionId": .string(data.dev)])
        let archived = try #require(session["archivedCount"]?.intValue)
        #expect(archived > 0)
        let all = try broker.call("session:getMessages", ["sessionId": .string(data.dev), "includeArchived": true])
        for message in all["messages"]?.arrayValue ?? [] {
            let seq = message["seq"]?.intValue ?? 0
            var heading = "### \(seq). \(message.text("role"))"
            if let name = message["name"]?.stringValue { heading += " (\(name))" }
            heading += " · \(message.text("createdAt")) · \(message["tokens"]?.intValue ?? -1) tokens"
            let line = text.split(separator: "\n").first { $0.hasPrefix(heading) }.map(String.init)
            #expect(line != nil, "no heading \(heading)")
            #expect(line?.hasSuffix(" · archived") == (seq <= archived), "\(line ?? heading)")
            #expect(text.contains(heading) && text.contains(message.text("content")))
        }
        let compactionRows = text.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains("| manual |") }
        #expect(compactionRows.count == 2)

        // A session with nothing in it: its empty sections are left out, headings included.
        let bare = try broker.ctl(["session", "export", data.bare, "--format", "markdown"]).stdout
        #expect(bare.hasPrefix("# Session \(data.bare)\n") && bare.contains("| Type | pm |"))
        for heading in [
            "## Context", "## Agent description", "## Checkpoint", "## Conversation", "## Compaction", "| Task |",
        ] {
            #expect(!bare.contains(heading), "a bare session's Markdown has \(heading)")
        }

        // JSON: a document that imports as a new session equal to the original.
        let json = directory + "/session.json"
        let wrote = try broker.ctl(["session", "export", data.dev, "--format", "json", "--out", json])
        #expect(wrote.status == 0 && wrote.stdout.contains(json), "\(wrote.stderr)")
        #expect(try fileMode(json) == 0o600)
        let document = try JSONParser.parse(try readText(json))
        #expect(document["format"] == "agentbroker.session" && document["formatVersion"] == 2)
        let imported = try broker.ctl(["session", "import", json])
        #expect(imported.status == 0, "\(imported.stderr)")
        let copyId = try #require(
            imported.stdout.split(separator: " ").first { $0.hasPrefix("ses_") }.map {
                String($0.dropLast($0.hasSuffix(":") ? 1 : 0))
            })
        #expect(copyId != data.dev)
        try expectSameSession(broker, data.dev, broker, copyId)
        let again = try broker.ctl(["session", "import", json, "--json"])
        let second = try JSONParser.parse(again.stdout)
        #expect(second["source"] == "session" && second["sessionId"] != .string(copyId))

        // The packet: the outcome, usage summed from the messages' metadata.usage.
        let packetFile = directory + "/packet.json"
        #expect(try broker.ctl(["session", "export", data.dev, "--format", "packet", "--out", packetFile]).status == 0)
        let packet = try JSONParser.parse(try readText(packetFile))
        #expect(packet["format"] == "agentbroker.packet" && packet["packetVersion"] == 1)
        #expect(packet["exportedBy"]?.stringValue?.hasPrefix("brokerctl") == true)
        #expect(packet["exportedAt"]?.stringValue.flatMap(Timestamp.parseISO8601) != nil)
        #expect(packet["brokerVersion"] == (try broker.call("broker:ping")["version"]))
        #expect(packet["session"]?["id"] == "ralph-42" && packet["session"]?["taskId"] == "T-3")
        #expect(packet["session"]?["tokenLimit"] == 50_000 && packet["session"]?["state"] == "in_dev")
        let checkpoint = try broker.call("session:getCheckpoint", ["sessionId": .string(data.dev)])
        for key in ["version", "summary", "completed", "pending", "decisions", "blockers"] {
            #expect(packet["checkpoint"]?[key] == checkpoint[key], "checkpoint.\(key)")
        }
        #expect(
            packet["context"] == ["repo": "agentbroker", "branch": "b"] && packet["agentDescription"] == ["role": "dev"]
        )
        let trace = packet["trace"]
        let count = all["messages"]?.arrayValue?.count ?? 0
        #expect(trace?["messages"]?.intValue == Int64(count) && trace?["archivedMessages"]?.intValue == archived)
        #expect(trace?["compactions"] == 2)
        #expect(
            trace?["tokens"]?["total"]?.intValue
                == all["messages"]?.arrayValue?.reduce(0) { $0 + ($1["tokens"]?.intValue ?? 0) })
        #expect(trace?["tokens"]?["active"] == session["tokens"])
        #expect(trace?["inputTokens"] == 1_812 && trace?["outputTokens"] == 253)
        #expect(abs((trace?["costUsd"]?.doubleValue ?? 0) - 0.5012) < 1e-9)
        #expect(packet["agentPath"] == ["dev", "planner", "shell", "coder"])
        let barePacket = try JSONParser.parse(
            try broker.ctl(["session", "export", data.bare, "--format", "packet"]).stdout)
        #expect(barePacket["trace"]?["inputTokens"] == 0 && barePacket["trace"]?["outputTokens"] == 0)
        #expect(barePacket["trace"]?["costUsd"]?.doubleValue == 0 && barePacket["trace"]?["messages"] == 0)
        #expect(barePacket["checkpoint"]?["version"] == 0 && barePacket["agentPath"] == ["pm"])

        // A packet imports as a new session: its labels and documents, checkpoint version 1, no messages.
        let fromPacket = try broker.ctl(["session", "import", packetFile, "--json"])
        #expect(fromPacket.status == 0, "\(fromPacket.stderr)")
        if fromPacket.status == 0 {
            let result = try JSONParser.parse(fromPacket.stdout)
            #expect(result["source"] == "packet" && result["stats"] == ["sessions": 1, "checkpoints": 1])
            let id = try #require(result["sessionId"]?.stringValue)
            let created = try broker.call("session:get", ["sessionId": .string(id)])
            #expect(created["type"] == "dev" && created["featureId"] == "F-7" && created["taskId"] == "T-3")
            #expect(created["state"] == "in_dev" && created["tokenLimit"] == 50_000)
            #expect(created["messageCount"] == 0 && created["archivedCount"] == 0 && created["checkpointVersion"] == 1)
            #expect(
                created["context"] == packet["context"] && created["agentDescription"] == packet["agentDescription"])
            let copied = try broker.call("session:getCheckpoint", ["sessionId": .string(id)])
            for key in ["summary", "completed", "pending", "decisions", "blockers"] {
                #expect(copied[key] == checkpoint[key], "checkpoint.\(key)")
            }
        }
    }

    @Test("trace bundle: 0600, gunzip | jq reads it, manifest counts, --session, --since, --out -, import round trip")
    func traceBundle() throws {
        let source = try TestBroker()
        let data = try PortabilityData.fill(source)
        let directory = scratchDirectory()
        let bundle = directory + "/traces.jsonl.gz"
        let written = try source.ctl(["traces", "export", "--out", bundle, "--json"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try fileMode(bundle) == 0o600)
        #expect(
            try JSONParser.parse(written.stdout)["stats"]?["compressedBytes"]?.intValue
                == Int64(try Data(contentsOf: URL(fileURLWithPath: bundle)).count))

        // The system's tools read it, every line (jq parses each; numbers are compared from our own parse,
        // as jq may round integers past 2^53).
        let read = try source.shell("gunzip -c \(bundle) | jq -c .")
        #expect(read.status == 0, "\(read.stderr)")
        let plain = try source.shell("gunzip -c \(bundle)")
        #expect(plain.status == 0, "\(plain.stderr)")
        let lines = try jsonLines(plain.stdout)
        #expect(read.stdout.split(separator: "\n").count == lines.count)
        let manifest = try #require(lines.first)
        #expect(manifest["type"] == "manifest" && manifest["version"] == 1 && manifest["recordFormatVersion"] == 2)
        #expect(manifest["filter"] == ["since": nil, "sessionId": nil])
        #expect(manifest["exportedBy"]?.stringValue?.hasPrefix("brokerctl") == true)
        let sources = PortableSections.all.map(JSON.string)
        #expect(manifest["sources"] == .array(sources))
        let entries = Array(lines.dropFirst())
        #expect(manifest["totalCount"]?.intValue == Int64(entries.count))
        for section in PortableSections.all {
            let count = entries.filter { $0["source"] == .string(section) }.count
            #expect(manifest["counts"]?[section]?.intValue == Int64(count), "counts.\(section)")
            #expect(count > 0, "no \(section) lines")
        }
        #expect(entries.allSatisfy { $0.objectValue?.keys == ["source", "entry"] })
        // Each entry is the row's backup record.
        let backup = try source.exportDocument(["kind": "backup"])
        let document = try JSONParser.parse(backup.text)
        for section in PortableSections.all {
            let records = entries.filter { $0["source"] == .string(section) }.compactMap { $0["entry"] }
            let inBackup = document[section]?.arrayValue ?? []
            #expect(records == inBackup, "\(section) entries differ from the backup's")
        }
        // jq filters from the documentation work.
        let contents = try source.shell(
            "gunzip -c \(bundle) | jq -r 'select(.source==\"messages\") | .entry | \"\\(.role): \\(.content)\"'")
        #expect(contents.stdout.contains("assistant: DECISION: hand-written scanner"), "\(contents.stdout)")

        // --session keeps one session's rows and the events that name it; no jobs, tasks or iterations.
        let one = directory + "/one.jsonl.gz"
        #expect(
            try source.ctl(["traces", "export", "--out", one, "--session", data.qa, "--quiet"]).stdout == one + "\n")
        let oneLines = try jsonLines(try source.shell("gunzip -c \(one)").stdout)
        #expect(oneLines.first?["filter"]?["sessionId"] == .string(data.qa))
        #expect(oneLines.first?["sources"] == ["sessions", "messages", "checkpoints", "compactions", "events"])
        #expect(oneLines.first?["totalCount"]?.intValue == Int64(oneLines.count - 1))
        for line in oneLines.dropFirst() {
            let entry = line["entry"]
            let owner =
                line["source"] == "sessions"
                ? entry?["id"] : line["source"] == "events" ? entry?["body"]?["sessionId"] : entry?["sessionId"]
            #expect(owner == .string(data.qa), "\(line)")
        }
        let qaMessages = try source.call(
            "session:getMessages", ["sessionId": .string(data.qa), "includeArchived": true])
        #expect(oneLines.filter { $0["source"] == "messages" }.count == qaMessages["messages"]?.arrayValue?.count)
        let logged = try source.call("events:since", ["seq": 0, "limit": 1_000])["events"]?.arrayValue ?? []
        let qaEvents = logged.filter { $0["sessionId"] == .string(data.qa) }
        #expect(!qaEvents.isEmpty && oneLines.filter { $0["source"] == "events" }.count == qaEvents.count)

        // --since in the future: the manifest alone.
        let none = try source.shell("$CTL traces export --out - --since 2999-01-01T00:00:00Z --api $API | gunzip -c")
        #expect(none.status == 0, "\(none.stderr)")
        let noneLines = try jsonLines(none.stdout)
        #expect(noneLines.count == 1 && noneLines.first?["totalCount"] == 0)
        #expect(noneLines.first?["filter"]?["since"] == "2999-01-01T00:00:00.000Z")
        #expect(try source.ctl(["traces", "export", "--out", "-", "--since", "yesterday"]).status == 2)

        // --out -: the same bundle on standard output, gzip all the way.
        let piped = try source.shell("$CTL traces export --out - --api $API | gunzip -c")
        #expect(piped.status == 0, "\(piped.stderr)")
        let pipedLines = try jsonLines(piped.stdout)
        #expect(Array(pipedLines.dropFirst()) == entries)

        // Into a fresh broker: the same entries come out of it, plus its broker:imported event.
        let destination = try TestBroker()
        let imported = try destination.ctl(["traces", "import", bundle, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let result = try JSONParser.parse(imported.stdout)
        #expect(result["kind"] == "traces" && result["skipped"] == [:])
        for section in PortableSections.all {
            #expect(result["stats"]?[section] == manifest["counts"]?[section], "imported \(section)")
        }
        // Row by row, the same data (the recomputed counters included); the events, by seq, then broker:imported.
        let sourceRows = try source.rows()
        let destinationRows = try destination.rows()
        for table in DatabaseRows.tables where table != "events" {
            expectSameRows(table, sourceRows.tables[table] ?? [], destinationRows.tables[table] ?? [])
        }
        let lastSeq = Int64(manifest["counts"]?["events"]?.intValue ?? 0)
        expectSameRows("events", sourceRows.events(through: lastSeq), destinationRows.events(through: lastSeq))
        let back = try jsonLines(try destination.shell("$CTL traces export --out - --api $API | gunzip -c").stdout)
        let backEntries = Array(back.dropFirst())
        #expect(backEntries.last?["entry"]?["topic"] == "broker:imported")
        #expect(Array(backEntries.dropLast()) == entries)
        var backManifest = try #require(back.first?.objectValue)
        var sourceManifest = try #require(manifest.objectValue)
        backManifest["exportedAt"] = nil
        sourceManifest["exportedAt"] = nil
        backManifest["counts"] = nil
        sourceManifest["counts"] = nil
        backManifest["totalCount"] = nil
        sourceManifest["totalCount"] = nil
        #expect(backManifest == sourceManifest)

        // Again: everything is already there, nothing is written.
        let before = try destination.rows()
        let again = try destination.ctl(["traces", "import", bundle, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let skipped = try JSONParser.parse(again.stdout)
        #expect(skipped["skipped"] == manifest["counts"] && skipped["stats"] == [:], "\(skipped)")
        let after = try destination.rows()
        for table in DatabaseRows.tables where table != "events" {
            expectSameRows(table, before.tables[table] ?? [], after.tables[table] ?? [])
        }
        #expect((after.tables["events"]?.count ?? 0) == (before.tables["events"]?.count ?? 0) + 1)  // broker:imported

        // A truncated bundle is refused, and nothing of it is imported.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bundle))
        let cut = directory + "/cut.jsonl.gz"
        for length in [bytes.count - 4, bytes.count / 2, 12] {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
            let empty = try TestBroker()
            let refused = try empty.ctl(["traces", "import", cut])
            #expect(refused.status != 0, "cut at \(length): \(refused.stdout)")
            #expect(refused.stderr.contains("truncated"), "cut at \(length): \(refused.stderr)")
            #expect(try empty.rows().counts.values.allSatisfy { $0 == 0 }, "cut at \(length)")
        }
    }

    @Test("rows JSON cannot carry are exported repaired and flagged, counted on stderr, and imported as they are")
    func unrepresentableRows() throws {
        var broker: TestBroker? = try TestBroker()
        let directory = try #require(broker?.directory)
        let id = try #require(try broker?.createSession(type: "dev", feature: "f"))
        try broker?.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": "fine"])
        broker = nil  // stopped: the test writes into its database file as a damaged disk or an old tool might
        do {
            let db = try Connection(path: directory + "/broker.db")
            try db.execute(
                """
                INSERT INTO messages (session, seq, message_id, role, content, tokens, session_tokens, created_at,
                prompt_tokens) SELECT rowid, 2, 'bad-utf8', 'user', CAST(X'6F6BFF21' AS TEXT), 2, 2, 1700000000000, 3
                FROM sessions WHERE id = '\(id)';
                UPDATE messages SET metadata = '{oops' WHERE seq = 1;
                UPDATE session_state SET next_seq = 3, message_count = 2, active_count = 2;
                INSERT INTO events (seq, topic, body, at) SELECT MAX(seq) + 1, 'test:broken', 'not json {', 1700000000000
                FROM events;
                """)
        }
        let restarted = try TestBroker(directory: directory)
        let file = scratchDirectory() + "/backup.json"
        let exported = try restarted.ctl(["export", file])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stderr.contains("3 rows hold text JSON cannot carry faithfully"), "\(exported.stderr)")
        let document = try JSONParser.parse(try readText(file))
        let messages = document["messages"]?.arrayValue ?? []
        #expect(messages.count == 2)
        #expect(
            messages.first?["metadata"] == "{oops" && messages.first?["unrepresentable"] == "metadata is not valid JSON"
        )
        #expect(
            messages.last?["content"] == "ok\u{FFFD}!"
                && messages.last?["unrepresentable"] == "content is not valid UTF-8")
        let broken = document["events"]?.arrayValue?.last
        #expect(broken?["topic"] == "test:broken" && broken?["body"] == "not json {")
        #expect(broken?["unrepresentable"] == "body is not valid JSON")
        #expect(document["stats"]?["messages"] == 2)

        let traces = try restarted.shell("$CTL traces export --out - --api $API 2>&1 >/dev/null")
        #expect(traces.stdout.contains("3 rows"), "\(traces.stdout)")
        let markdown = try restarted.ctl(["session", "export", id, "--format", "markdown"])
        #expect(markdown.stdout.contains("ok\u{FFFD}!"))

        // Imported as repaired: the flag counts, the string stays a string.
        let destination = try TestBroker()
        let imported = try destination.ctl(["import", file])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("3 rows hold text"), "\(imported.stderr)")
        let again = try TestBroker()
        #expect(try JSONParser.parse(try again.ctl(["import", file, "--json"]).stdout)["unrepresentable"] == 3)
        let copy = try destination.rows()
        let events = copy.tables["events"] ?? []
        #expect(events.contains { $0.contains("topic='test:broken'") && $0.contains(#"body='"not json {"'"#) })
        #expect(copy.tables["messages"]?.contains { $0.contains("content='ok\u{FFFD}!'") } == true)
        #expect(copy.tables["messages"]?.contains { $0.contains(#"metadata='"{oops"'"#) } == true)
    }

    /// Two sessions hold the same conversation, checkpoints and compaction history (ids apart).
    private func expectSameSession(_ a: TestBroker, _ first: String, _ b: TestBroker, _ second: String) throws {
        var left = try a.call("session:get", ["sessionId": .string(first)]).objectValue ?? [:]
        var right = try b.call("session:get", ["sessionId": .string(second)]).objectValue ?? [:]
        left["sessionId"] = nil
        right["sessionId"] = nil
        #expect(left == right)
        let all: (String) -> JSONObject = { ["sessionId": .string($0), "includeArchived": true] }
        let leftMessages = try a.call("session:getMessages", all(first))["messages"]?.arrayValue ?? []
        let rightMessages = try b.call("session:getMessages", all(second))["messages"]?.arrayValue ?? []
        #expect(leftMessages.count == rightMessages.count && !leftMessages.isEmpty)
        for (l, r) in zip(leftMessages, rightMessages) {
            var l = l.objectValue ?? [:], r = r.objectValue ?? [:]
            #expect(l["messageId"] != r["messageId"])
            l["messageId"] = nil
            r["messageId"] = nil
            #expect(l == r)
        }
        let version = left["checkpointVersion"]?.intValue ?? 0
        #expect(version > 1)
        for v in 1...max(version, 1) {
            var l =
                try a.call("session:getCheckpoint", ["sessionId": .string(first), "version": .int(v)]).objectValue
                ?? [:]
            var r =
                try b.call("session:getCheckpoint", ["sessionId": .string(second), "version": .int(v)]).objectValue
                ?? [:]
            l["sessionId"] = nil
            r["sessionId"] = nil
            #expect(l == r, "checkpoint version \(v)")
        }
        var lc = try a.call("session:listCompactions", ["sessionId": .string(first)]).objectValue ?? [:]
        var rc = try b.call("session:listCompactions", ["sessionId": .string(second)]).objectValue ?? [:]
        lc["sessionId"] = nil
        rc["sessionId"] = nil
        #expect(lc == rc && (lc["compactions"]?.arrayValue?.isEmpty == false))
    }
}

/// The sections of a backup, in document order.
enum PortableSections {
    static let all = [
        "sessions", "messages", "checkpoints", "compactions", "jobs", "tasks", "taskIterations", "events",
    ]
}

/// Hand-made old files (AGENTBROKER-PORTABILITY section 7).
enum LegacyFiles {
    /// No version block at all; sessions carry "limit"; times in every accepted form.
    static let versionless = #"""
        {"sessions": [
          {"id": "old-1", "type": "dev", "featureId": "F", "taskId": "t-1", "state": "planning", "limit": 5000,
           "context": {"repo": "old"}, "agentDescription": "An old agent.", "createdAt": "2024-05-01",
           "updatedAt": 1714557602500, "firstActiveSeq": 2, "checkpointVersion": 1, "compactions": 0,
           "tokensSaved": 0, "lastCompactionMs": null, "lastCompactionAt": null}
         ],
         "messages": [
          {"sessionId": "old-1", "seq": 1, "messageId": "old-1-m1", "role": "user", "content": "old",
           "name": null, "toolCallId": null, "metadata": null, "tokens": null, "promptTokens": null,
           "sessionTokens": 0, "createdAt": "2024-05-01 09:00:00", "archived": true},
          {"sessionId": "old-1", "seq": 2, "messageId": "old-1-m2", "role": "user", "content": "hello",
           "name": null, "toolCallId": null, "metadata": {"k": 1}, "tokens": 1, "promptTokens": null,
           "sessionTokens": 1, "createdAt": "2024-05-01T12:00:00+02:00", "archived": false},
          {"sessionId": "old-1", "seq": 3, "messageId": "old-1-m3", "role": "assistant", "content": "world",
           "name": null, "toolCallId": null, "metadata": null, "tokens": 1, "promptTokens": null,
           "sessionTokens": 2, "createdAt": "2024-05-01T08:00:01Z", "archived": false}
         ],
         "checkpoints": [
          {"sessionId": "old-1", "version": 1, "summary": "", "completed": [], "pending": ["migrate"],
           "decisions": [], "blockers": [], "createdAt": "2024-05-01T10:00:00.000Z"}
         ],
         "events": [
          {"seq": 1, "topic": "session:created", "body": {"seq": 1, "topic": "session:created"}, "at": 1714557600000}
         ]}
        """#

    /// Format 1, declared: a header with stats without the work sections.
    static let version1 = #"""
        {"format":"agentbroker.backup","formatVersion":1,"exportedAt":"2024-06-01T00:00:00.000Z",
        "stats":{"sessions":1,"messages":1,"checkpoints":0,"compactions":0,"events":0},
        "sessions":[
        {"id":"old-2","type":"pm","featureId":"G","taskId":null,"state":"planning","limit":12345,"context":{},"agentDescription":{},"createdAt":"2024-06-01T00:00:00.000Z","updatedAt":"2024-06-01T00:00:00.000Z","firstActiveSeq":1,"checkpointVersion":0,"compactions":0,"tokensSaved":0,"lastCompactionMs":null,"lastCompactionAt":null}
        ],
        "messages":[
        {"sessionId":"old-2","seq":1,"messageId":"old-2-m1","role":"user","content":"hi","name":null,"toolCallId":null,"metadata":null,"tokens":1,"promptTokens":5,"sessionTokens":1,"createdAt":"2024-06-01T00:00:00.000Z","archived":false}
        ],
        "checkpoints":[],"compactions":[],"events":[]}
        """#
}
