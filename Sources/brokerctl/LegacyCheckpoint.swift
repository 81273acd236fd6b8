import BrokerClient
import BrokerProtocol

/// The initial checkpoint of an imported session, derived from its conversation.
///
/// The broker's own summarizer is asked first (`session:previewCompaction`: it writes nothing), so an
/// imported session starts with the same kind of checkpoint a compaction would give it: the items its
/// markers name (`TODO:`, `DECISION:` ...) and a summary. When the summarizer cannot answer, a simple
/// checkpoint from the last messages stands in; the import never fails for want of a summary.
struct LegacyCheckpoint {
    let target: LegacyTarget
    let path: String
    let conversation: LegacyConversation

    /// Time given to the summarizer, which may be a model: far more than an ordinary request needs.
    static let previewTimeoutMs = 120_000
    /// Messages quoted in the stand-in summary.
    static let highlightCount = 5
    static let highlightCharacters = 200

    /// The first line of the summary: where the session came from.
    var header: String {
        let kind = target.type == "pm" ? "PM chat" : "Dev session"
        var text = "Imported from \(path): \(plural(conversation.messages.count, "message")) (legacy \(kind))."
        if conversation.skippedParts > 0 {
            text += " Left out: \(plural(conversation.skippedParts, "non-text content part"))."
        }
        return text
    }

    /// Writes version 1 and returns its version; nil when another writer got there first (the session
    /// then has a checkpoint, which is all the import wants).
    func write(createdAt: String, _ broker: LegacyBroker) throws(ClientError) -> Int64? {
        var params: JSONObject = [
            "sessionId": .string(target.sessionId),
            "requestId": .string(target.checkpointRequestId(createdAt: createdAt)),
            // Only over the empty version 0: a checkpoint an agent wrote since must not be overwritten.
            "expectedVersion": 0,
        ]
        for (key, value) in try content(broker) { params[key] = value }
        do {
            return try broker.call("session:updateCheckpoint", params)["version"]?.intValue
        } catch .rpc(let error) where error.kind == .conflict && error.details["currentVersion"] != nil {
            return nil
        }
    }

    /// The summary and the four lists.
    private func content(_ broker: LegacyBroker) throws(ClientError) -> JSONObject {
        if !conversation.messages.isEmpty, let proposed = try preview(broker) {
            var content = JSONObject()
            let summary = Self.imported(proposed["summary"]?.stringValue ?? "")
            content["summary"] = .string(summary.isEmpty ? header : header + "\n\n" + summary)
            for key in ["completed", "pending", "decisions", "blockers"] {
                content[key] = proposed[key] ?? .array([])
            }
            return content
        }
        return ["summary": .string(([header] + highlights).joined(separator: "\n"))]
    }

    /// The checkpoint the broker's summarizer proposes, or nil when it cannot make one in time.
    private func preview(_ broker: LegacyBroker) throws(ClientError) -> JSON? {
        let client = broker.client
        let (timeoutMs, attempts) = (client.timeoutMs, client.attempts)
        // One long attempt: a second one would run the summarizer (perhaps a paid model) again.
        client.timeoutMs = max(timeoutMs, Self.previewTimeoutMs)
        client.attempts = 1
        defer { (client.timeoutMs, client.attempts) = (timeoutMs, attempts) }
        do {
            return try broker.call("session:previewCompaction", ["sessionId": .string(target.sessionId)])["checkpoint"]
        } catch .rpc, .unreachable {
            // A summarizer that fails or takes too long only costs the richer summary. A broker that is
            // really gone shows in the checkpoint write that follows.
            return nil
        }
    }

    /// The embedded summarizer opens with "Messages 1-12 (...) were compacted.", which is not what
    /// happened here; any other summary is kept as it is.
    static func imported(_ summary: String) -> String {
        let lines = summary.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("Messages "), first.hasSuffix(" were compacted.") else {
            return summary
        }
        return ([first.dropLast(" compacted.".count) + " imported."] + lines.dropFirst()).joined(separator: "\n")
    }

    /// `- role: first line` for the last user and assistant messages.
    private var highlights: [String] {
        conversation.messages.filter { $0.role == "user" || $0.role == "assistant" }.suffix(Self.highlightCount).map {
            message in
            let line = message.content.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            let clipped =
                line.count <= Self.highlightCharacters ? line : String(line.prefix(Self.highlightCharacters - 1)) + "…"
            return "- \(message.role): \(clipped)"
        }
    }
}
