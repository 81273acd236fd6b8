import BrokerClient
import BrokerProtocol
import Foundation
import SessionCore
import Testing

/// The transfer methods of AGENTBROKER-PORTABILITY on a real broker: snapshots under writes, refusals and
/// their locations, the upload dialog, limits, restore rules for events and jobs, and session documents.
@Suite("Portability")
struct PortabilityTests {
    @Test("an export taken while the broker takes writes is one snapshot; the writes are answered meanwhile")
    func exportUnderWrites() throws {
        let broker = try TestBroker()
        let sessions = try (0..<3).map { _ in try broker.createSession() }
        let padding = String(repeating: "x", count: 300)
        for id in sessions {
            #expect(
                try broker.addMessages(id, (0..<400).map { (role: "user", content: "message \($0) \(padding)") }) == 0)
        }
        let writes = Counter()
        let failures = Counter()
        let stop = Counter()
        let writer = Thread {
            let client = broker.client()
            var index = 0
            while stop.value == 0 {
                let id = sessions[index % sessions.count]
                index += 1
                do {
                    _ = try client.call(
                        "session:addMessage",
                        ["sessionId": .string(id), "role": "user", "content": .string("live \(index)")])
                    writes.add()
                } catch {
                    failures.add()
                }
            }
        }
        writer.start()
        defer { stop.add() }
        func waitForWrites(_ count: Int) throws {
            let deadline = Date().addingTimeInterval(20)
            while writes.value < count && Date() < deadline { usleep(1_000) }
            guard writes.value >= count else { throw TestFailure("the writer is stuck at \(writes.value) writes") }
        }
        try waitForWrites(10)

        let client = broker.client(timeoutMs: 30_000)
        let opened = try client.call("export:open", ["kind": "backup", "exportedBy": "test"])
        let writesAtOpen = writes.value
        let exportId = try #require(opened["exportId"]?.stringValue)
        // Commits after the snapshot: some writes, and a new session.
        try waitForWrites(writesAtOpen + 30)
        let late = try broker.createSession(feature: "late")
        var text = ""
        var pieces: [Int] = []
        while true {
            let piece = try client.call("export:read", ["exportId": .string(exportId), "maxBytes": 4_096])
            let data = try #require(piece["data"]?.stringValue)
            text += data
            pieces.append(data.utf8.count)
            #expect(piece["bytes"]?.intValue == Int64(text.utf8.count))
            if piece["done"] == true {
                #expect(piece["rows"] == opened["totalRows"])
                break
            }
        }
        let writesAtDone = writes.value
        stop.add()
        while !writer.isFinished { usleep(1_000) }
        #expect(failures.value == 0)
        #expect(writesAtDone - writesAtOpen >= 30, "writes were not answered during the export")
        #expect(pieces.count > 50)
        // A piece ends at the first record boundary at or after maxBytes: never short, at most a record long.
        #expect(pieces.dropLast().allSatisfy { $0 >= 4_096 && $0 < 4_096 + 1_024 }, "\(pieces)")

        let document = try JSONParser.parse(text)
        #expect(document["exportedBy"] == "test")
        for section in PortableSections.all {
            let count = Int64(document[section]?.arrayValue?.count ?? -1)
            #expect(document["stats"]?[section]?.intValue == count, "stats.\(section)")
            #expect(opened["stats"]?[section]?.intValue == count, "export:open stats.\(section)")
        }
        let ids = document["sessions"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids == sessions && !ids.contains(late))
        let messages = document["messages"]?.arrayValue ?? []
        let exportedAt = try #require(document["exportedAt"]?.stringValue.flatMap(Timestamp.parseISO8601))
        for id in sessions {
            let seqs = messages.filter { $0["sessionId"] == .string(id) }.compactMap { $0["seq"]?.intValue }
            #expect(seqs == Array(1...Int64(max(seqs.count, 1))), "\(id): seqs are not 1...n")
        }
        #expect(
            messages.allSatisfy { ($0["createdAt"]?.stringValue.flatMap(Timestamp.parseISO8601) ?? .max) <= exportedAt }
        )
        let stats = try broker.call("broker:stats")
        let added = Int64(writesAtDone - writesAtOpen)
        #expect((stats["messages"]?.intValue ?? 0) >= Int64(messages.count) + added, "later writes are missing")
        let events = (document["events"]?.arrayValue ?? []).compactMap { $0["seq"]?.intValue }
        #expect(events == Array(1...Int64(max(events.count, 1))))
        // The export is closed once done.
        #expect(try broker.error("export:read", ["exportId": .string(exportId)]).kind == .notFound)
    }

    @Test("a job or compaction twice in a backup is the file's problem even where the broker has rows of its own")
    func duplicatesIntoAnOccupiedBroker() throws {
        let source = try TestBroker()
        try source.call("job:submit", ["service": "nobody", "jobId": "job-a", "timeoutMs": 60_000])
        try source.call("job:submit", ["service": "nobody", "jobId": "job-b", "timeoutMs": 60_000])
        let text = try source.exportDocument(["kind": "backup"]).text
        var lines = text.components(separatedBy: "\n")
        let jobB = try #require(lines.firstIndex { $0.hasPrefix("{\"id\":\"job-b\"") })
        // job-b's record is replaced by a second job-a: same count, one id twice.
        let jobA = try #require(lines.first { $0.hasPrefix("{\"id\":\"job-a\"") })
        lines[jobB] = jobA.hasSuffix(",") == lines[jobB].hasSuffix(",") ? jobA : String(jobA.dropLast())
        let target = try TestBroker()
        try target.call("job:submit", ["service": "nobody", "jobId": "job-z", "timeoutMs": 60_000])
        let before = try target.rows()
        let refused = try target.importRefusal(lines.joined(separator: "\n"))
        #expect(refused.kind == .invalidParams, "\(refused)")
        #expect(refused.details["location"]?["path"] == "jobs[1].id", "\(refused)")
        #expect(refused.details.text("problem").contains("appears twice in the file"), "\(refused)")
        #expect(try target.rows().tables == before.tables)
        // A job the broker already has is a conflict with the broker, as before.
        let taken = try TestBroker()
        try taken.call("job:submit", ["service": "nobody", "jobId": "job-a", "timeoutMs": 60_000])
        #expect(try taken.importRefusal(text).kind == .conflict)
    }

    @Test("a refused backup names the first problem and where it is, and writes nothing")
    func refusalLocations() throws {
        let broker = try TestBroker()
        let id = try broker.createSession(extra: ["sessionId": "s-1"])
        for text in ["one", "two", "three"] {
            try broker.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": .string(text)])
        }
        let text = try broker.exportDocument(["kind": "backup"]).text
        let before = try broker.rows()
        let lines = text.components(separatedBy: "\n")
        let messageLines = lines.indices.filter {
            lines[$0].hasPrefix("{\"sessionId\":") && lines[$0].contains("\"messageId\"")
        }
        try #require(messageLines.count == 3)

        func refusal(
            _ document: String, kind: String = "backup", _ problem: String, path: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws -> JSONObject {
            let error = try broker.importRefusal(document, kind: kind)
            #expect(error.kind == .invalidParams, "\(error)", sourceLocation: sourceLocation)
            #expect(error.details.text("problem").contains(problem), "\(error)", sourceLocation: sourceLocation)
            #expect(
                error.message.hasPrefix("the file was refused, nothing was imported: "), sourceLocation: sourceLocation)
            let location = error.details["location"]?.objectValue ?? [:]
            #expect(location.text("path") == path, "\(error)", sourceLocation: sourceLocation)
            return location
        }
        func replacing(_ line: Int, _ target: String, _ replacement: String) -> String {
            var copy = lines
            copy[messageLines[line]] = copy[messageLines[line]].replacingOccurrences(of: target, with: replacement)
            return copy.joined(separator: "\n")
        }
        /// Line (1-based), column (1-based) and byte (0-based) of the first `needle` in `document`.
        func place(of needle: String, in document: String) -> (line: Int64, column: Int64, byte: Int64) {
            let bytes = Array(document.utf8)
            let target = Array(needle.utf8)
            let offset =
                (0...(bytes.count - target.count)).first { Array(bytes[$0..<$0 + target.count]) == target } ?? 0
            let lineStart = bytes[..<offset].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            return (
                Int64(bytes[..<offset].filter { $0 == 0x0A }.count + 1), Int64(offset - lineStart + 1), Int64(offset)
            )
        }

        // Truncated inside messages[1]: found at the end of the file.
        let messageStart = text.components(separatedBy: "\n")[..<messageLines[1]].joined(separator: "\n").utf8.count + 1
        let cut = String(decoding: Array(text.utf8).prefix(messageStart + 25), as: UTF8.self)
        let end = try refusal(cut, "truncated", path: "messages[1]")
        #expect(end["byte"]?.intValue == Int64(cut.utf8.count))
        #expect(end["line"]?.intValue == Int64(messageLines[1] + 1) && end["column"] == 26)

        // Wrong-shaped members, named by their path; the location is the record's start.
        let role = replacing(1, "\"role\":\"user\"", "\"role\":\"robot\"")
        let robot = try refusal(
            role, "\"role\" must be one of system, user, assistant, tool, not \"robot\"", path: "messages[1].role")
        let record = place(of: "{\"sessionId\":\"s-1\",\"seq\":2", in: role)
        #expect(robot["line"]?.intValue == record.line && robot["column"]?.intValue == record.column)
        #expect(robot["byte"]?.intValue == record.byte)
        _ = try refusal(replacing(0, "\"content\":\"one\",", ""), "\"content\" is missing", path: "messages[0].content")
        _ = try refusal(replacing(2, "\"seq\":3,", "\"seq\":\"3\","), "must be an integer", path: "messages[2].seq")
        _ = try refusal(replacing(2, "\"seq\":3,", "\"seq\":2,"), "must increase", path: "messages[2].seq")
        _ = try refusal(
            replacing(2, "\"sessionId\":\"s-1\"", "\"sessionId\":\"s-9\""), "s-9", path: "messages[2].sessionId")
        _ = try refusal(
            replacing(1, "\"createdAt\":\"", "\"createdAt\":\"noon "), "ISO 8601", path: "messages[1].createdAt")
        // Not JSON in the middle of the file.
        let broken = replacing(1, "\"role\":", "\"role\" ")
        let syntax = try refusal(broken, "not valid JSON", path: "messages[1]")
        #expect(syntax["line"]?.intValue == Int64(messageLines[1] + 1))
        #expect((syntax["byte"]?.intValue ?? 0) > place(of: "{\"sessionId\":\"s-1\",\"seq\":2", in: broken).byte)

        // Cut at a record boundary and closed by hand: the header's counts tell.
        var shortened = lines
        shortened.remove(at: messageLines[2])
        shortened[messageLines[1]].removeLast()  // its comma
        _ = try refusal(shortened.joined(separator: "\n"), "3", path: "stats.messages")

        // Duplicates within the file (AGENTBROKER-PORTABILITY 8.1 step 5: "message 'm-7' appears twice").
        // A messageId used twice in the file is the file's problem (invalid_params at the second one), not a
        // conflict with the broker; the write pass tells the two apart, and nothing is written.
        // (Into an empty broker, so that no id of the file exists there already.)
        let messageId: (Int) -> String = { index in
            String(lines[messageLines[index]].components(separatedBy: "\"messageId\":\"")[1].prefix { $0 != "\"" })
        }
        let empty = try TestBroker()
        let duplicate = try empty.importRefusal(replacing(2, messageId(2), messageId(1)))
        #expect(duplicate.kind == .invalidParams, "\(duplicate)")
        #expect(duplicate.details["location"]?["path"] == "messages[2].messageId", "\(duplicate)")
        #expect(try empty.rows().counts.values.allSatisfy { $0 == 0 })

        // The header.
        _ = try refusal("", "the file is empty", path: "")
        _ = try refusal(text + "{}", "unexpected data after the document", path: "")
        _ = try refusal(
            text.replacingOccurrences(of: "\"formatVersion\":2", with: "\"formatVersion\":\"2\""), "integer",
            path: "formatVersion")
        _ = try refusal(
            text.replacingOccurrences(of: "\"formatVersion\":2", with: "\"formatVersion\":0"), "integer",
            path: "formatVersion")
        _ = try refusal(
            text.replacingOccurrences(of: "\"formatVersion\":2", with: "\"formatVersion\":3"),
            "format version 3 is newer than this broker reads (2); upgrade AgentBroker to import it",
            path: "formatVersion")
        _ = try refusal(
            text.replacingOccurrences(of: "agentbroker.backup", with: "agentbroker.packet"), "agentbroker.packet",
            path: "format")
        _ = try refusal(text, kind: "session", "brokerctl import", path: "format")
        _ = try refusal(
            text.replacingOccurrences(of: "\"checkpointVersion\":0", with: "\"checkpointVersion\":4"),
            "checkpoint version 4",
            path: "sessions")

        #expect(try broker.rows().tables == before.tables)

        // Layout is free: a pretty-printed backup with an unknown member imports the same.
        let file = scratchDirectory() + "/backup.json"
        try text.save(file)
        let pretty = try Processes.run("/usr/bin/jq", [". + {\"comment\": \"edited by hand\"}", file])
        #expect(pretty.status == 0 && pretty.stdout.contains("\n  \"sessions\": ["), "\(pretty.stderr)")
        let fresh = try TestBroker()
        let imported = try fresh.importText(pretty.stdout, kind: "backup")
        #expect((try? imported.get())?["stats"]?["messages"] == 3, "\(imported)")
        let copy = try fresh.rows()
        for table in DatabaseRows.tables where table != "events" {
            expectSameRows(table, before.tables[table] ?? [], copy.tables[table] ?? [])
        }
    }

    @Test("import:write acknowledges a repeated last piece, refuses a gap; commit and abort end the import")
    func uploadDialog() throws {
        let broker = try TestBroker()
        let id = try broker.createSession(extra: ["sessionId": "up-1"])
        let text = try broker.exportDocument(["kind": "session", "sessionId": .string(id)]).text
        let bytes = Array(text.utf8)
        let half = bytes.count / 2
        let first = String(decoding: bytes[..<half], as: UTF8.self)
        let second = String(decoding: bytes[half...], as: UTF8.self)
        let importId = try #require(try broker.call("import:begin", ["kind": "session"])["importId"]?.stringValue)
        let write: (Int64, String) throws -> JSON = { seq, data in
            try broker.call("import:write", ["importId": .string(importId), "seq": .int(seq), "data": .string(data)])
        }
        #expect(try write(0, first)["bytes"]?.intValue == Int64(half))
        #expect(try write(0, first)["bytes"]?.intValue == Int64(half))  // a retry: acknowledged, not appended
        let gap = try broker.error("import:write", ["importId": .string(importId), "seq": 2, "data": "x"])
        #expect(gap.kind == .invalidParams && gap.details["field"] == "seq" && gap.message.contains("1"))
        #expect(try write(1, second)["bytes"]?.intValue == Int64(bytes.count))
        #expect(try write(1, second)["bytes"]?.intValue == Int64(bytes.count))
        let old = try broker.error("import:write", ["importId": .string(importId), "seq": 0, "data": "x"])
        #expect(old.kind == .invalidParams)
        let committed = try broker.call("import:commit", ["importId": .string(importId)])
        #expect(committed["source"] == "session" && committed["importId"] == .string(importId))
        let newId = try #require(committed["sessionId"]?.stringValue)
        #expect(newId != id && newId.hasPrefix("ses_"))
        #expect(try broker.call("session:get", ["sessionId": .string(newId)])["featureId"] == "feature-1")
        // broker:imported stands for the rows.
        let imported = try broker.events("broker:")
        #expect(imported.count == 1)
        #expect(imported.first?["kind"] == "session" && imported.first?["sessionId"] == .string(newId))
        #expect(imported.first?["stats"] == committed["stats"])
        // The import is gone.
        #expect(try broker.error("import:commit", ["importId": .string(importId)]).kind == .notFound)
        #expect(
            try broker.error("import:write", ["importId": .string(importId), "seq": 2, "data": ""]).kind == .notFound)

        let aborted = try #require(try broker.call("import:begin", ["kind": "backup"])["importId"]?.stringValue)
        try broker.call("import:write", ["importId": .string(aborted), "seq": 0, "data": .string(text)])
        #expect(try broker.call("import:abort", ["importId": .string(aborted)])["aborted"] == true)
        #expect(try broker.error("import:commit", ["importId": .string(aborted)]).kind == .notFound)
        #expect(try broker.error("import:abort", ["importId": .string(aborted)]).kind == .notFound)
        #expect(try broker.error("import:begin", ["kind": "session", "clear": true]).kind == .invalidParams)
        #expect(try broker.error("import:begin", ["kind": "zip"]).kind == .invalidParams)
        // A refused file also ends its import, and leaves no spool.
        let refused = try #require(try broker.call("import:begin", ["kind": "backup"])["importId"]?.stringValue)
        try broker.call("import:write", ["importId": .string(refused), "seq": 0, "data": "{"])
        #expect(try broker.error("import:commit", ["importId": .string(refused)]).kind == .invalidParams)
        #expect(try broker.error("import:commit", ["importId": .string(refused)]).kind == .notFound)
        let spools = try FileManager.default.contentsOfDirectory(atPath: broker.directory).filter {
            $0.hasSuffix(".spool")
        }
        #expect(spools.isEmpty, "\(spools)")
    }

    @Test("export:open checks its params; 8 exports at most; a finished or closed export is gone")
    func exportLimits() throws {
        let broker = try TestBroker()
        let id = try broker.createSession()
        let cases: [(JSONObject, ErrorKind)] = [
            (["kind": "everything"], .invalidParams),
            (["kind": "backup", "sessionId": .string(id)], .invalidParams),
            (["kind": "backup", "format": "markdown"], .invalidParams),
            (["kind": "traces", "format": "json"], .invalidParams),
            (["kind": "traces", "since": "last week"], .invalidParams),
            (["kind": "session"], .invalidParams),
            (["kind": "session", "sessionId": .string(id), "format": "pdf"], .invalidParams),
            (["kind": "session", "sessionId": .string(id), "since": "2026-01-01"], .invalidParams),
            (["kind": "session", "sessionId": "nobody"], .notFound),
            (["kind": "backup", "exportedBy": .string(String(repeating: "a", count: 257))], .tooLarge),
        ]
        for (params, kind) in cases {
            #expect(try broker.error("export:open", params).kind == kind, "\(params)")
        }
        #expect(try broker.error("session:export", ["sessionId": "nobody"]).kind == .notFound)

        var open: [String] = []
        for _ in 0..<8 {
            open.append(try #require(try broker.call("export:open", ["kind": "backup"])["exportId"]?.stringValue))
        }
        #expect(try broker.error("export:open", ["kind": "backup"]).kind == .unavailable)
        #expect(
            try broker.error("export:read", ["exportId": .string(open[0]), "maxBytes": 100]).kind == .invalidParams)
        #expect(try broker.call("export:close", ["exportId": .string(open[0])])["closed"] == true)
        let closed = try broker.error("export:read", ["exportId": .string(open[0])])
        #expect(
            closed.kind == .notFound && closed.message.contains("is not open")
                && closed.details["id"] == .string(open[0]))
        #expect(try broker.error("export:close", ["exportId": .string(open[0])]).kind == .notFound)
        // One more may open now.
        let another = try #require(try broker.call("export:open", ["kind": "backup"])["exportId"]?.stringValue)
        for exportId in open.dropFirst() + [another] {
            try broker.call("export:close", ["exportId": .string(exportId)])
        }
        // A small document ends in the first piece.
        let whole = try broker.call("export:open", ["kind": "session", "sessionId": .string(id), "format": "packet"])
        let piece = try broker.call("export:read", ["exportId": .string(try #require(whole["exportId"]?.stringValue))])
        #expect(piece["done"] == true)
        #expect(try JSONParser.parse(piece["data"]?.stringValue ?? "")["format"] == "agentbroker.packet")
    }

    @Test("session:export returns the same document export:open streams, in each format")
    func oneShotEqualsStreamed() throws {
        let broker = try TestBroker()
        let data = try PortabilityData.fill(broker)
        func withoutTime(_ text: String) -> String {
            text.replacing(/"exportedAt":"[0-9T:.Z-]+"/, with: "\"exportedAt\":\"\"")
        }
        for format in ["json", "markdown", "packet"] {
            for session in [data.dev, data.qa, data.bare] {
                let params: JSONObject = ["sessionId": .string(session), "format": .string(format), "exportedBy": "me"]
                let oneShot = try broker.call("session:export", params)
                var streamParams = params
                streamParams["kind"] = "session"
                let streamed = try broker.exportDocument(streamParams, maxBytes: 4_096)
                #expect(oneShot["format"] == .string(format) && oneShot["sessionId"] == .string(session))
                #expect(oneShot["formatVersion"] == streamed.opened["formatVersion"])
                let document = try #require(oneShot["document"]?.stringValue)
                #expect(withoutTime(document) == withoutTime(streamed.text), "\(format) of \(session)")
                if format != "markdown" {
                    #expect(document != withoutTime(document), "no exportedAt in the \(format) document")
                    #expect(try JSONParser.parse(document)["exportedBy"] == "me")
                }
            }
        }
    }

    @Test("a session document imports as a new session any number of times; a packet without a format is a packet")
    func sessionDocuments() throws {
        let broker = try TestBroker()
        let data = try PortabilityData.fill(broker)
        let text = try #require(
            try broker.call("session:export", ["sessionId": .string(data.qa), "format": "json"])["document"]?
                .stringValue)
        let first = try broker.importText(text, kind: "session").get()
        let second = try broker.importText(text, kind: "session").get()
        #expect(first["sessionId"] != second["sessionId"] && first["source"] == "session")
        #expect(first["stats"] == ["sessions": 1, "messages": 3, "checkpoints": 1])
        for result in [first, second] {
            let id = try #require(result["sessionId"]?.stringValue)
            let copy = try broker.call("session:getMessages", ["sessionId": .string(id), "includeArchived": true])
            let original = try broker.call(
                "session:getMessages", ["sessionId": .string(data.qa), "includeArchived": true])
            #expect(
                copy["messages"]?.arrayValue?.map { $0["content"] }
                    == original["messages"]?.arrayValue?.map { $0["content"] })
            #expect(copy["messages"]?.arrayValue?.first?["content"] == .string(PortabilityData.awkward))
            #expect(try broker.call("session:get", ["sessionId": .string(id)])["archivedCount"] == 2)
        }
        // A session document holds exactly one session, and only its records.
        let backup = try broker.exportDocument(["kind": "backup"]).text
        #expect(try broker.importRefusal(backup, kind: "session").details["location"]?["path"] == "format")
        let two = text.replacingOccurrences(of: "\"sessions\":1", with: "\"sessions\":2")
            .replacingOccurrences(
                of: "\"sessions\":[\n",
                with: "\"sessions\":[\n" + (text.components(separatedBy: "\n").first { $0.hasPrefix("{\"id\":") } ?? "")
                    + ",\n")
        #expect(try broker.importRefusal(two, kind: "session").kind == .invalidParams)
        // A session document holds exactly one session (AGENTBROKER-PORTABILITY section 9): none is refused.
        for empty in ["{}", "{\"format\":\"agentbroker.session\",\"formatVersion\":2,\"sessions\":[]}"] {
            let result = try broker.importText(empty, kind: "session")
            #expect((try? result.get()) == nil, "an empty session document was accepted: \(result)")
        }

        // Packets.
        var packet =
            try JSONParser.parse(
                try #require(
                    try broker.call("session:export", ["sessionId": .string(data.bare), "format": "packet"])[
                        "document"]?
                        .stringValue)
            ).objectValue ?? [:]
        #expect(
            try broker.importText(JSON.object(packet).serializedString, kind: "session").get()["source"] == "packet")
        var newer = packet
        newer["packetVersion"] = 2
        let refused = try broker.importRefusal(JSON.object(newer).serializedString, kind: "session")
        #expect(
            refused.details.text("problem").contains(
                "packet version 2 is newer than this broker reads (1); upgrade AgentBroker"))
        // The location names the member that carries the version: packetVersion for a packet (section 7.4).
        #expect(refused.details["location"]?["path"] == "packetVersion", "\(refused)")
        // A document with packetVersion and no format is a packet (AGENTBROKER-PORTABILITY section 9).
        packet["format"] = nil
        let formatless = try broker.importText(JSON.object(packet).serializedString, kind: "session")
        #expect((try? formatless.get())?["source"] == "packet", "\(formatless)")
    }

    @Test("a backup added to a broker that has events is appended after them, body seqs rewritten")
    func eventsAppended() throws {
        let source = try TestBroker()
        let exported = try source.createSession(feature: "from-source")
        try source.call("session:addMessage", ["sessionId": .string(exported), "role": "user", "content": "hi"])
        let text = try source.exportDocument(["kind": "backup"]).text
        let sourceEvents = try source.call("events:since", ["seq": 0])["events"]?.arrayValue ?? []

        let target = try TestBroker()
        _ = try target.createSession(feature: "own")
        let own = try target.call("events:since", ["seq": 0])["events"]?.arrayValue ?? []
        let result = try target.importText(text, kind: "backup").get()
        #expect(result["stats"]?["events"]?.intValue == Int64(sourceEvents.count))
        let events = try target.call("events:since", ["seq": 0, "limit": 1_000])["events"]?.arrayValue ?? []
        #expect(events.count == own.count + sourceEvents.count + 1)
        #expect(events.map { $0["seq"]?.intValue ?? 0 } == Array(1...Int64(events.count)))
        let appended = Array(events[own.count..<own.count + sourceEvents.count])
        for (copy, original) in zip(appended, sourceEvents) {
            var left = copy.objectValue ?? [:], right = original.objectValue ?? [:]
            left["seq"] = nil
            right["seq"] = nil
            #expect(left == right)
        }
        #expect(events.last?["topic"] == "broker:imported")
    }

    @Test("imported queued jobs are queued again and dispatched; a running one on its last attempt fails")
    func unfinishedJobs() throws {
        let source = try TestBroker()
        try source.call("job:submit", ["service": "later", "jobId": "waiting", "payload": ["n": 1]])
        try source.call("job:submit", ["service": "later", "jobId": "interrupted", "maxAttempts": 1])
        var text = try source.exportDocument(["kind": "backup"]).text
        // As if the source had stopped while a worker ran "interrupted".
        let lines = text.components(separatedBy: "\n").map { line -> String in
            guard line.hasPrefix("{\"id\":\"interrupted\"") else { return line }
            return line.replacingOccurrences(
                of: "\"state\":\"queued\",\"attempts\":0", with: "\"state\":\"running\",\"attempts\":1"
            )
            .replacingOccurrences(of: "\"worker\":null", with: "\"worker\":\"w-gone\"")
        }
        text = lines.joined(separator: "\n")
        #expect(text.contains("\"state\":\"running\""))

        let destination = try TestBroker()
        #expect((try? destination.importText(text, kind: "backup").get()) != nil)
        let failed = try destination.waitForJob("interrupted", timeoutMs: 5_000)
        #expect(failed["state"] == "failed", "\(failed)")
        #expect(failed["error"]?.stringValue?.contains("during attempt 1 of 1") == true, "\(failed)")
        #expect(try destination.call("job:get", ["jobId": "waiting"])["state"] == "queued")
        let worker = try RawWorker(destination, service: "later")
        let request = try #require(try worker.nextRequest())
        #expect(request.jobId == "waiting" && request.body["payload"] == ["n": 1])
        try worker.reply("waiting", result: "ok")
        #expect(try destination.waitForJob("waiting")["state"] == "completed")
    }

    @Test("a trace bundle filtered by --since restores a session whose messages were archived before it")
    func sinceKeepsTheArchiveBoundary() throws {
        let source = try TestBroker()
        let id = try source.createSession()
        for index in 1...4 {
            try source.call(
                "session:addMessage", ["sessionId": .string(id), "role": "user", "content": .string("m\(index)")])
        }
        usleep(20_000)
        let since = Timestamp.iso8601(Timestamp.now())
        usleep(20_000)
        try source.call("session:clearMessages", ["sessionId": .string(id)])
        let bundle = try source.exportDocument(["kind": "traces", "since": .string(since)]).text
        let lines = try jsonLines(bundle)
        #expect(lines.first?["counts"]?["sessions"] == 1 && lines.first?["counts"]?["messages"] == 0)

        let destination = try TestBroker()
        _ = try destination.importText(bundle, kind: "traces").get()
        let restored = try destination.call("session:get", ["sessionId": .string(id)])
        #expect(restored["messageCount"] == 0)
        // The session's archive boundary is seq 5: the next message must get seq 5 or later and be active.
        // next_seq is at least firstActiveSeq (section 6.2.1), so a new message lands after the archive boundary.
        let added = try destination.call(
            "session:addMessage", ["sessionId": .string(id), "role": "user", "content": "new"])
        #expect((added["seq"]?.intValue ?? 0) >= 5, "\(added)")
        let active = try destination.call("session:getMessages", ["sessionId": .string(id)])["messages"]?.arrayValue
        #expect(active?.map { $0["content"] } == ["new"])
    }

    @Test(
        "times a backup carries round-trip: an epoch-millisecond time the import accepts can be exported and restored")
    func extremeTimesRoundTrip() throws {
        // Year 10000 and year -1 as epoch milliseconds, which import accepts.
        let document = #"""
            {"format":"agentbroker.backup","formatVersion":2,"sessions":[
            {"id":"far","type":"dev","featureId":"F","taskId":null,"state":"planning","tokenLimit":5000,"context":{},"agentDescription":{},"createdAt":253402300800000,"updatedAt":-62198755200000,"firstActiveSeq":1,"checkpointVersion":0,"compactions":0,"tokensSaved":0,"lastCompactionMs":null,"lastCompactionAt":null}
            ],"messages":[]}
            """#
        let broker = try TestBroker()
        let accepted = try broker.importText(document, kind: "backup")
        if case .failure(let error) = accepted {
            // Refusing such times is a fine answer too, provided the problem names the member.
            #expect(error.details["location"]?["path"]?.stringValue?.hasPrefix("sessions[0].") == true, "\(error)")
            return
        }
        // Times past year 9999 and before year 0 are written in ISO 8601's expanded form and read back, so a
        // backup holding one restores.
        let backup = try broker.exportDocument(["kind": "backup"]).text
        let restored = try TestBroker()
        let again = try restored.importText(backup, kind: "backup")
        #expect((try? again.get()) != nil, "\(again)")
        if (try? again.get()) != nil {
            #expect(
                try broker.call("session:get", ["sessionId": "far"])
                    == restored.call("session:get", ["sessionId": "far"]))
        }
    }
}
