import ArgumentParser
import BrokerProtocol
import SessionCore

struct SessionCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Show a session's checkpoint, or write a new version with the update flags.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "Show this version instead of the current one.") var version: Int64?
    @Option(help: "New summary.") var summary: String?
    @Option(help: "Completed items (repeat; replaces the list).") var completed: [String] = []
    @Option(help: "Pending items (repeat; replaces the list).") var pending: [String] = []
    @Option(help: "Decisions (repeat; replaces the list).") var decisions: [String] = []
    @Option(help: "Blockers (repeat; replaces the list).") var blockers: [String] = []
    @Option(help: "Refuse the update unless the current version is this one.") var expectedVersion: Int64?

    func run() throws {
        var update = JSONObject()
        if let summary { update["summary"] = .string(summary) }
        for (key, items) in [
            ("completed", completed), ("pending", pending), ("decisions", decisions), ("blockers", blockers),
        ]
        where !items.isEmpty {
            update[key] = .strings(items)
        }
        guard update.count > 0 else { return try CheckpointShow.show(global, sessionId, version: version) }
        if version != nil { throw UsageError("--version shows an old version; it cannot be combined with updates") }
        update["sessionId"] = .string(sessionId)
        update["requestId"] = .string(Identifier.make("req"))
        if let expectedVersion { update["expectedVersion"] = .int(expectedVersion) }
        let checkpoint = try global.call("session:updateCheckpoint", update)
        global.output(checkpoint) { CheckpointText.print(checkpoint, sessionId: sessionId) }
    }
}

/// `brokerctl checkpoint show`: the same view as `session checkpoint`, under the name the issue gives.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Show checkpoints.", subcommands: [CheckpointShow.self])
}

struct CheckpointShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a session's checkpoint (the current version, or --version N).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "Show this version instead of the current one.") var version: Int64?

    func run() throws { try Self.show(global, sessionId, version: version) }

    /// Fetches and prints one checkpoint version (the current one when `version` is nil).
    static func show(_ global: GlobalOptions, _ sessionId: String, version: Int64?) throws {
        var params = JSONObject([("sessionId", .string(sessionId))])
        if let version { params["version"] = .int(version) }
        let checkpoint = try global.call("session:getCheckpoint", params)
        global.output(checkpoint) { CheckpointText.print(checkpoint, sessionId: sessionId) }
    }
}

/// A checkpoint for people: version, summary, then the four lists with their marks.
enum CheckpointText {
    static func print(_ checkpoint: JSON, sessionId: String) {
        Swift.print(
            "checkpoint v\(Pretty.cell(checkpoint["version"])) of \(sessionId), "
                + "updated \(Pretty.cell(checkpoint["updatedAt"]))"
        )
        if let summary = checkpoint["summary"]?.stringValue, !summary.isEmpty { Swift.print("summary: \(summary)") }
        for (title, key, mark) in [
            ("Completed", "completed", "[x]"), ("Pending", "pending", "[ ]"),
            ("Decisions", "decisions", "*"), ("Blockers", "blockers", "!"),
        ] {
            let items = checkpoint[key]?.arrayValue ?? []
            guard !items.isEmpty else { continue }
            Swift.print("\(title):")
            for item in items { Swift.print("  \(mark) \(Pretty.cell(item))") }
        }
    }
}

struct SessionContext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context", abstract: "Show a session's context, or replace it with --set.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "New context: a JSON object, or plain text; '-' reads standard input.") var set: String?

    func run() throws {
        let result: JSON
        if let set {
            result = try global.call(
                "session:setContext",
                [
                    "sessionId": .string(sessionId), "context": document(set == "-" ? readStandardInput() : set),
                    "requestId": .string(Identifier.make("req")),
                ])
        } else {
            result = try global.call("session:getContext", ["sessionId": .string(sessionId)])
        }
        global.output(result) { print(Pretty.json(result["context"] ?? .null)) }
    }
}
