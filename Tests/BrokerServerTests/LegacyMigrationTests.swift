import BrokerProtocol
import Foundation
import Testing

/// `brokerctl migrate legacy` (Protocols/AGENTBROKER-LEGACY.md): the real executable, a real broker and real
/// files in a temporary directory.
@Suite("LegacyMigration")
struct LegacyMigrationTests {
    static let chat = #"""
        {"title": "Feature one", "messages": [
          {"role": "system", "content": "You are the PM."},
          {"role": "human", "content": "Plan the parser.", "timestamp": "2024-05-01T09:59:00Z"},
          {"role": "ai", "content": "TODO: write the parser\nDECISION: use SQLite", "createdAt": 1714557600000}
        ]}
        """#
    static let devSession = #"""
        [
          {"role": "user", "id": "u1", "timestamp": 1714557660000, "content": [
            {"type": "text", "text": "Implement"}, {"type": "image_url", "image_url": {"url": "x.png"}},
            {"type": "text", "text": "the parser"}]},
          {"role": "assistant", "name": "dev-bot", "createdAt": "2024-05-01T10:01:30.250Z", "content": "DONE: parser"},
          {"role": "tool", "content": "ok", "tool_call_id": "ignored"}
        ]
        """#
    /// Cut inside a string: the parser reports it at the end of the input, byte 30.
    static let truncated = #"[{"role":"user","content":"hel"#

    @Test(
        "good, truncated and wrong-shaped files; sessions, messages, checkpoints and backups; a second run adds nothing"
    )
    func migrateTwice() throws {
        let broker = try TestBroker()
        let legacy = try LegacyTree([
            "f1/chat.json": Self.chat,
            "f1/nodes/t1/session.json": Self.devSession,
            "f1/nodes/t2/session.json": Self.truncated,
            "f2/chat.json": #"[{"role": "user"}]"#,
            "f2/nodes/t3/session.json": #"{"history": []}"#,
            "f1/notes.json": "[]",  // not a legacy file name
            "f1/session.json": "[]",  // a session.json outside nodes/<task>/
        ])
        let originals = try legacy.snapshot()

        let first = try legacy.migrate(broker)
        #expect(first.status == 1, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "migrated f1/chat.json -> legacy-f1-pm (3 messages, 3 new)",
                "migrated f1/nodes/t1/session.json -> legacy-f1-t1-dev (3 messages, 3 new, 1 non-text part left out)",
                "skipped f1/nodes/t2/session.json: not valid JSON at byte 30: unterminated string",
                #"skipped f2/chat.json: [0]: missing "content""#,
                #"skipped f2/nodes/t3/session.json: an object must have a "messages" array; it has none"#,
                "5 files: 2 migrated, 3 skipped",
            ], "\(first.stdout)")

        let pm = try broker.call("session:get", ["sessionId": "legacy-f1-pm"])
        #expect(pm["type"] == "pm" && pm["featureId"] == "f1" && pm["taskId"] == .null && pm["state"] == "planning")
        let dev = try broker.call("session:get", ["sessionId": "legacy-f1-t1-dev"])
        #expect(dev["type"] == "dev" && dev["featureId"] == "f1" && dev["taskId"] == "t1" && dev["state"] == "in_dev")
        #expect(try sessionIds(broker) == ["legacy-f1-pm", "legacy-f1-t1-dev"])

        let chat = try messages(broker, "legacy-f1-pm")
        #expect(chat.map { $0["role"] } == ["system", "user", "assistant"])
        #expect(chat.map { $0["messageId"] } == ["legacy-f1-pm:0", "legacy-f1-pm:1", "legacy-f1-pm:2"])
        #expect(chat[2]["content"] == "TODO: write the parser\nDECISION: use SQLite")
        #expect(chat[1]["metadata"]?["legacyTimestamp"] == "2024-05-01T09:59:00Z")
        #expect(chat[2]["metadata"]?["legacyTimestamp"] == "2024-05-01T10:00:00.000Z")
        #expect(chat[0]["metadata"] == ["legacySource": "f1/chat.json", "legacyIndex": 0])

        let work = try messages(broker, "legacy-f1-t1-dev")
        #expect(work.map { $0["role"] } == ["user", "assistant", "tool"])
        #expect(work.map { $0["content"] } == ["Implement\nthe parser", "DONE: parser", "ok"])
        #expect(
            work[0]["metadata"] == [
                "legacyTimestamp": "2024-05-01T10:01:00.000Z", "legacyId": "u1",
                "legacySource": "f1/nodes/t1/session.json", "legacyIndex": 0, "skippedParts": 1,
            ])
        #expect(work[1]["name"] == "dev-bot" && work[1]["metadata"]?["legacyTimestamp"] == "2024-05-01T10:01:30.250Z")

        let pmCheckpoint = try broker.call("session:getCheckpoint", ["sessionId": "legacy-f1-pm"])
        #expect(pmCheckpoint["version"] == 1)
        let summary = pmCheckpoint["summary"]?.stringValue ?? ""
        #expect(summary.hasPrefix("Imported from f1/chat.json: 3 messages (legacy PM chat)."), "\(summary)")
        #expect(pmCheckpoint["pending"] == ["write the parser"] && pmCheckpoint["decisions"] == ["use SQLite"])
        let devCheckpoint = try broker.call("session:getCheckpoint", ["sessionId": "legacy-f1-t1-dev"])
        #expect(devCheckpoint["version"] == 1 && devCheckpoint["completed"] == ["parser"])
        #expect(
            devCheckpoint["summary"]?.stringValue?.hasPrefix(
                "Imported from f1/nodes/t1/session.json: 3 messages (legacy Dev session). "
                    + "Left out: 1 non-text content part.") == true)

        // Originals untouched; every file read backed up byte for byte, the ignored ones not at all.
        #expect(try legacy.snapshot() == originals)
        let backups = try legacy.backups()
        #expect(backups.keys.sorted() == originals.keys.filter(LegacyTree.isLegacyFile).sorted())
        for (path, bytes) in backups { #expect(bytes == originals[path], "backup of \(path)") }
        #expect(try legacy.mode(".agentbroker-legacy-backup/f1/nodes/t1/session.json") == 0o600)
        #expect(try legacy.mode(".agentbroker-legacy-backup/f1/nodes") == 0o700)
        #expect(try legacy.mode(".agentbroker-legacy-backup") == 0o700)

        // Second run: nothing new anywhere; the JSON report says so.
        let second = try legacy.migrate(broker, ["--json"])
        #expect(second.status == 1, "\(second.stderr)")
        let report = try JSONParser.parse(second.stdout)
        #expect(report["migrated"] == 0 && report["unchanged"] == 2 && report["skipped"] == 3)
        let files = report["files"]?.arrayValue ?? []
        #expect(files.map { $0["status"] } == ["unchanged", "unchanged", "skipped", "skipped", "skipped"])
        #expect(files.map { $0["added"] } == [0, 0, 0, 0, 0])
        #expect(files[0]["sessionId"] == "legacy-f1-pm" && files[0]["messages"] == 3)
        #expect(files[0]["checkpointVersion"] == 1)
        #expect(files[2]["reason"] == "not valid JSON at byte 30: unterminated string")
        #expect(files[0]["backup"] == ".agentbroker-legacy-backup/f1/chat.json")
        #expect(try messages(broker, "legacy-f1-pm").count == 3 && messages(broker, "legacy-f1-t1-dev").count == 3)
        #expect(try broker.call("session:getCheckpoint", ["sessionId": "legacy-f1-pm"])["version"] == 1)
        #expect(try legacy.backups() == backups)
        #expect(try legacy.snapshot() == originals)
        #expect(
            try legacy.migrate(broker).stdout.contains("unchanged f1/chat.json -> legacy-f1-pm (3 messages, 0 new)"))
    }

    @Test("--dry-run reads and reports but writes nothing: no session, no backup directory")
    func dryRun() throws {
        let broker = try TestBroker()
        let legacy = try LegacyTree([
            "f1/chat.json": Self.chat, "f1/nodes/t1/session.json": Self.devSession,
            "f1/nodes/t2/session.json": Self.truncated,
        ])
        let originals = try legacy.snapshot()
        let dry = try legacy.migrate(broker, ["--dry-run"])
        #expect(dry.status == 1)
        #expect(dry.stdout.contains("would migrate f1/chat.json -> legacy-f1-pm (3 messages, 3 new)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("skipped f1/nodes/t2/session.json: not valid JSON at byte 30"))
        #expect(dry.stdout.contains("3 files: 1 skipped, 2 would migrate (dry run: nothing written)"))
        #expect(try sessionIds(broker).isEmpty)
        #expect(try broker.call("broker:stats")["sessions"] == 0)
        #expect(!FileManager.default.fileExists(atPath: legacy.root + "/.agentbroker-legacy-backup"))
        #expect(try legacy.snapshot() == originals)

        // Good files only: exit 0. After a real run the dry run finds nothing to do.
        try FileManager.default.removeItem(atPath: legacy.root + "/f1/nodes/t2")
        #expect(try legacy.migrate(broker, ["--dry-run"]).status == 0)
        #expect(try legacy.migrate(broker).status == 0)
        let json = try JSONParser.parse(try legacy.migrate(broker, ["--dry-run", "--json"]).stdout)
        #expect(json["unchanged"] == 2 && json["wouldMigrate"] == 0 && json["dryRun"] == true)
        #expect(json["files"]?.arrayValue?.map { $0["backup"] } == [.null, .null])
    }

    @Test("a changed original: new messages added, its backup kept beside the first as <name>.<epoch-ms>")
    func changedOriginal() throws {
        let broker = try TestBroker()
        let legacy = try LegacyTree(["f1/chat.json": Self.chat])
        #expect(try legacy.migrate(broker).status == 0)
        let longer = Self.chat.replacingOccurrences(
            of: "\n]}", with: ",\n  " + #"{"role": "user", "content": "One more thing."}"# + "\n]}")
        #expect(longer != Self.chat)
        try legacy.write("f1/chat.json", longer)
        let second = try legacy.migrate(broker)
        #expect(second.stdout.contains("migrated f1/chat.json -> legacy-f1-pm (4 messages, 1 new)"), "\(second.stdout)")
        let chat = try messages(broker, "legacy-f1-pm")
        #expect(chat.map { $0["seq"] } == [1, 2, 3, 4] && chat[3]["content"] == "One more thing.")
        // The initial checkpoint is written once: a later run leaves the session's checkpoint alone.
        #expect(try broker.call("session:getCheckpoint", ["sessionId": "legacy-f1-pm"])["version"] == 1)
        let backups = try legacy.backups()
        #expect(backups.count == 2)
        #expect(backups["f1/chat.json"] == Array(Self.chat.utf8))
        let stamped = try #require(backups.keys.first { $0 != "f1/chat.json" })
        #expect(stamped.range(of: #"^f1/chat\.json\.[0-9]{13}$"#, options: .regularExpression) != nil, "\(stamped)")
        #expect(backups[stamped] == Array(longer.utf8))
        // A third run finds an identical backup (the stamped one) and writes no other.
        #expect(try legacy.migrate(broker).stdout.contains("unchanged f1/chat.json"))
        #expect(try legacy.backups().count == 2)
    }

    @Test("featureId/taskId members, odd and long directory names: valid, distinct ids; two files, one session")
    func identifiers() throws {
        let broker = try TestBroker()
        let longTask = String(repeating: "t", count: 200)
        let legacy = try LegacyTree([
            "my feature/chat.json": #"[{"role": "user", "content": "a"}]"#,
            "my_feature/chat.json": #"[{"role": "user", "content": "b"}]"#,
            "x/nodes/\(longTask)/session.json": #"[{"role": "user", "content": "c"}]"#,
            "y/nodes/t9/session.json": #"{"featureId": "feat-x", "taskId": "task-y", "messages": []}"#,
            "z/chat.json": #"{"featureId": "my_feature", "messages": []}"#,
        ])
        let run = try legacy.migrate(broker, ["--json"])
        #expect(run.status == 1, "\(run.stderr)")
        let files = try JSONParser.parse(run.stdout)["files"]?.arrayValue ?? []
        #expect(files.map { $0["status"] } == ["migrated", "migrated", "migrated", "migrated", "skipped"])
        let ids = files.prefix(4).compactMap { $0["sessionId"]?.stringValue }
        #expect(ids.count == 4 && Set(ids).count == 4)
        for id in ids {
            #expect(id.utf8.count <= 100 && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "\(id)")
        }
        #expect(ids[0].hasPrefix("legacy-my_feature-") && ids[0].hasSuffix("-pm") && ids[0] != "legacy-my_feature-pm")
        #expect(ids[1] == "legacy-my_feature-pm")
        #expect(ids[2].hasPrefix("legacy-x-ttt") && ids[2].hasSuffix("-dev") && ids[2].utf8.count == 100)
        #expect(ids[3] == "legacy-feat-x-task-y-dev")
        #expect(
            files[4]["reason"]
                == "session legacy-my_feature-pm is already imported from my_feature/chat.json in this run")
        let long = try broker.call("session:get", ["sessionId": .string(ids[2])])
        #expect(long["taskId"] == .string(longTask) && long["featureId"] == "x")
        #expect(try messages(broker, ids[2]).map { $0["messageId"] } == [.string(ids[2] + ":0")])
        let named = try broker.call("session:get", ["sessionId": "legacy-feat-x-task-y-dev"])
        #expect(named["featureId"] == "feat-x" && named["taskId"] == "task-y" && named["checkpointVersion"] == 1)
        #expect(try messages(broker, "legacy-my_feature-pm").map { $0["content"] } == ["b"])
    }

    @Test("exit codes: 0 all migrated, 1 a session that exists for another feature, 2 no DIR, 3 no broker")
    func exitCodes() throws {
        let broker = try TestBroker()
        let legacy = try LegacyTree(["f1/chat.json": Self.chat, "f2/chat.json": Self.chat])
        try broker.call("session:create", ["sessionId": "legacy-f2-pm", "type": "pm", "featureId": "other"])
        let conflict = try legacy.migrate(broker)
        #expect(conflict.status == 1)
        #expect(conflict.stdout.contains("migrated f1/chat.json -> legacy-f1-pm (3 messages, 3 new)"))
        #expect(
            conflict.stdout.contains(
                "failed f2/chat.json -> legacy-f2-pm: session legacy-f2-pm already exists with featureId other"),
            "\(conflict.stdout)")
        #expect(try messages(broker, "legacy-f2-pm").isEmpty)
        try FileManager.default.removeItem(atPath: legacy.root + "/f2")
        #expect(try legacy.migrate(broker).status == 0)
        let empty = try LegacyTree([:])
        let nothing = try empty.migrate(broker)
        #expect(nothing.status == 0 && nothing.stdout.hasPrefix("0 files"))

        let missing = try Processes.run(
            "brokerctl", ["migrate", "legacy", legacy.root + "/nope", "--api", broker.endpoints.api])
        #expect(missing.status == 2 && missing.stderr.contains("No such file or directory"), "\(missing.stderr)")
        #expect(try Processes.run("brokerctl", ["migrate", "legacy"]).status == 2)
        let unreachable = try Processes.run(
            "brokerctl",
            ["migrate", "legacy", legacy.root, "--api", "tcp://127.0.0.1:9", "--timeout", "0.2", "--retries", "1"])
        #expect(unreachable.status == 3 && unreachable.stderr.contains("no reply"), "\(unreachable.stderr)")
    }

    // MARK: - Helpers

    private func messages(_ broker: TestBroker, _ sessionId: String) throws -> [JSON] {
        let page = try broker.call(
            "session:getMessages", ["sessionId": .string(sessionId), "includeArchived": true, "limit": 1_000])
        return page["messages"]?.arrayValue ?? []
    }

    private func sessionIds(_ broker: TestBroker) throws -> [String] {
        try broker.call("session:list")["sessions"]?.arrayValue?.compactMap { $0["sessionId"]?.stringValue } ?? []
    }
}

/// A directory of legacy files in a fresh temporary directory.
private struct LegacyTree {
    let root: String

    init(_ files: [String: String]) throws {
        root = TestBroker.makeDirectory() + "/legacy"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (path, text) in files { try write(path, text) }
    }

    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root + "/" + path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    static func isLegacyFile(_ path: String) -> Bool {
        path.hasSuffix("/chat.json")
            || path.range(of: "/nodes/[^/]+/session\\.json$", options: .regularExpression) != nil
    }

    /// Runs `brokerctl migrate legacy` on the tree.
    func migrate(_ broker: TestBroker, _ extra: [String] = []) throws -> Processes.Output {
        try Processes.run("brokerctl", ["migrate", "legacy", root, "--api", broker.endpoints.api] + extra)
    }

    /// Every file outside the backup directory: relative path → bytes.
    func snapshot() throws -> [String: [UInt8]] {
        try files(under: root).filter { !$0.key.hasPrefix(".agentbroker-legacy-backup/") }
    }

    /// Every backup file: path relative to the backup directory → bytes.
    func backups() throws -> [String: [UInt8]] {
        try files(under: root + "/.agentbroker-legacy-backup")
    }

    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: root + "/" + path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    private func files(under directory: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return result }
        for case let path as String in enumerator {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                result[path] = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + path)))
            }
        }
        return result
    }
}
