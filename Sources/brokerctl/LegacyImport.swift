import BrokerClient
import BrokerProtocol
import ZeroMQ

/// One client for the whole import: `GlobalOptions.call` makes a socket per call, too slow for
/// thousands of messages.
final class LegacyBroker {
    // The context must outlive the client's socket, so the two live and die together.
    private let context: ZMQContext
    let client: RPCClient

    init(_ global: GlobalOptions) throws {
        guard global.timeout > 0, global.retries > 0 else {
            throw UsageError("--timeout and --retries must be positive")
        }
        context = try ZMQContext()
        client = try global.client(context: context, timeoutMs: Int(global.timeout * 1000), attempts: global.retries)
    }

    func call(_ method: String, _ params: JSONObject) throws(ClientError) -> JSON {
        try client.call(method, params)
    }
}

/// Imports legacy files one at a time, turning each into a `LegacyOutcome`.
///
/// Every write names its own id (`sessionId`, `messageId`, `requestId`), so retries and second runs
/// add nothing. Only an unreachable broker stops the run (the error is thrown); anything wrong with
/// one file, the broker's refusals included, is reported for that file and the run carries on.
struct LegacyImporter {
    /// The import directory, absolute.
    let root: String
    let dryRun: Bool
    let broker: LegacyBroker
    /// Which file each session was made from in this run: two files must not feed one session.
    private var claimed: [String: String] = [:]

    init(root: String, dryRun: Bool, broker: LegacyBroker) {
        self.root = root
        self.dryRun = dryRun
        self.broker = broker
    }

    mutating func run(_ source: LegacySource) throws(ClientError) -> LegacyOutcome {
        var outcome = LegacyOutcome(path: source.relativePath)
        guard let bytes = ProcessIO.readFile(root + "/" + source.relativePath) else {
            return outcome.failing("cannot read the file: \(ProcessIO.lastErrorMessage)")
        }
        if !dryRun {
            // Backed up before anything else, corrupt files too: every file read is kept as it was.
            do {
                outcome.backup = try LegacyBackup.save(bytes, relativePath: source.relativePath, root: root)
            } catch {
                return outcome.failing("cannot back the file up: \(error.message)")
            }
        }
        let conversation: LegacyConversation
        do {
            conversation = try LegacyFormat.parse(bytes, source: source.relativePath)
        } catch {
            outcome.status = .skipped
            outcome.reason = error.reason
            return outcome
        }
        let target = LegacyTarget(source, conversation)
        outcome.sessionId = target.sessionId
        outcome.messages = conversation.messages.count
        outcome.skippedParts = conversation.skippedParts
        if let first = claimed[target.sessionId] {
            outcome.status = .skipped
            outcome.reason = "session \(target.sessionId) is already imported from \(first) in this run"
            return outcome
        }
        claimed[target.sessionId] = source.relativePath
        do {
            try synchronize(target, conversation, &outcome)
        } catch .rpc(let error) {
            return outcome.failing("the broker refused: \(error.message)")
        }
        return outcome
    }

    /// Brings the broker's session up to the file: creates it, adds the messages it lacks, and writes the
    /// initial checkpoint while there is none. In a dry run it only reads, to say what it would do.
    private func synchronize(
        _ target: LegacyTarget, _ conversation: LegacyConversation, _ outcome: inout LegacyOutcome
    ) throws(ClientError) {
        let existing = try session(target.sessionId)
        if let existing, let mismatch = Self.mismatch(existing, target) {
            outcome.status = .failed
            outcome.reason = "session \(target.sessionId) already exists with \(mismatch)"
            return
        }
        let present = existing == nil ? [] : try messageIds(target.sessionId)
        let missing = conversation.messages.indices.filter { !present.contains(target.messageId($0)) }
        let currentVersion = existing?["checkpointVersion"]?.intValue ?? 0
        outcome.added = missing.count
        outcome.checkpointVersion = currentVersion
        if dryRun {
            outcome.status = existing == nil || !missing.isEmpty || currentVersion == 0 ? .wouldMigrate : .unchanged
            return
        }
        let summary: JSON
        if let existing { summary = existing } else { summary = try create(target) }
        for index in missing {
            let message = conversation.messages[index]
            var params: JSONObject = [
                "sessionId": .string(target.sessionId), "messageId": .string(target.messageId(index)),
                "role": .string(message.role), "content": .string(message.content),
                "metadata": .object(message.metadata),
            ]
            if let name = message.name { params["name"] = .string(name) }
            _ = try broker.call("session:addMessage", params)
        }
        var wroteCheckpoint = false
        if currentVersion == 0 {
            let checkpoint = LegacyCheckpoint(target: target, path: outcome.path, conversation: conversation)
            if let version = try checkpoint.write(createdAt: summary["createdAt"]?.stringValue ?? "", broker) {
                outcome.checkpointVersion = version
                wroteCheckpoint = true
            }
        }
        outcome.status = existing == nil || !missing.isEmpty || wroteCheckpoint ? .migrated : .unchanged
    }

    /// The session's summary, or nil when the broker has no such session.
    private func session(_ sessionId: String) throws(ClientError) -> JSON? {
        do {
            return try broker.call("session:get", ["sessionId": .string(sessionId)])
        } catch .rpc(let error) where error.kind == .notFound {
            return nil
        }
    }

    private func create(_ target: LegacyTarget) throws(ClientError) -> JSON {
        var params: JSONObject = [
            "sessionId": .string(target.sessionId), "type": .string(target.type),
            "featureId": .string(target.featureId), "state": .string(target.state),
        ]
        if let taskId = target.taskId { params["taskId"] = .string(taskId) }
        return try broker.call("session:create", params)
    }

    /// Every message id the session holds, archived ones included (a compaction after an earlier import
    /// archives imported messages; they must still count as imported).
    private func messageIds(_ sessionId: String) throws(ClientError) -> Set<String> {
        var ids: Set<String> = []
        var afterSeq: Int64 = 0
        while true {
            let page = try broker.call(
                "session:getMessages",
                [
                    "sessionId": .string(sessionId), "afterSeq": .int(afterSeq), "limit": 50_000,
                    "includeArchived": true,
                ])
            for message in page["messages"]?.arrayValue ?? [] {
                if let id = message["messageId"]?.stringValue { ids.insert(id) }
            }
            guard page["hasMore"]?.boolValue == true, let next = page["nextSeq"]?.intValue, next > afterSeq else {
                return ids
            }
            afterSeq = next
        }
    }

    /// What differs between an existing session and the one the file maps to (`session:create` would
    /// answer `conflict`); nil when they match.
    private static func mismatch(_ session: JSON, _ target: LegacyTarget) -> String? {
        let expected: [(String, JSON)] = [
            ("type", .string(target.type)), ("featureId", .string(target.featureId)),
            ("taskId", .optional(target.taskId)),
        ]
        let differing = expected.filter { key, value in (session[key] ?? .null) != value }
        guard !differing.isEmpty else { return nil }
        return differing.map { key, _ in "\(key) \(Pretty.cell(session[key]))" }.joined(separator: ", ")
            + " (this file needs "
            + differing.map { key, value in "\(key) \(Pretty.cell(value))" }.joined(separator: ", ") + ")"
    }
}
