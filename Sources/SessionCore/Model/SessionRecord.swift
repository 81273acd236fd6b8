import BrokerProtocol

/// A session's row: identity, labels, limits and the running totals kept as messages come and go.
///
/// Active messages are always a suffix of the session's sequence numbers
/// (clearing and compaction archive the oldest), so `firstActiveSeq` alone
/// says which messages are archived, and clearing is one row update.
public struct SessionRecord: Sendable, Equatable {
    public var rowID: Int64
    public var id: String
    public var type: String
    public var featureId: String
    public var taskId: String?
    public var state: String
    public var tokenLimit: Int64
    /// Serialized JSON (an object or a string) of the context and of the agent description.
    public var context: String
    public var agentDescription: String
    public var nextSeq: Int64
    public var firstActiveSeq: Int64
    public var messageCount: Int64
    public var activeCount: Int64
    public var totalTokens: Int64
    public var activeTokens: Int64
    public var checkpointVersion: Int64
    public var compactions: Int64
    public var tokensSaved: Int64
    public var lastCompactionMs: Int64?
    public var lastCompactionAt: EpochMillis?
    /// Prompt tokens (`RequestLayout` blocks) of the active messages.
    public var activePromptTokens: Int64
    /// Exact tokens of the agent description, context and checkpoint sections.
    public var baseTokens: Int64
    public var createdAt: EpochMillis
    public var updatedAt: EpochMillis

    public var archivedCount: Int64 { messageCount - activeCount }

    /// The size of the session's next request without its user message: what compaction watches.
    public var requestTokens: Int64 {
        baseTokens + activePromptTokens + (activeCount > 0 ? RequestLayout.conversationHeadingTokens : 0)
    }

    /// The summary form used by `session:list` and `session:create`.
    public var summaryJSON: JSONObject {
        JSONObject([
            ("sessionId", .string(id)), ("type", .string(type)), ("featureId", .string(featureId)),
            ("taskId", .optional(taskId)), ("state", .string(state)), ("tokenLimit", .int(tokenLimit)),
            ("messageCount", .int(activeCount)), ("archivedCount", .int(archivedCount)),
            ("tokens", .int(activeTokens)), ("requestTokens", .int(requestTokens)),
            ("checkpointVersion", .int(checkpointVersion)),
            ("createdAt", .string(Timestamp.iso8601(createdAt))),
            ("updatedAt", .string(Timestamp.iso8601(updatedAt))),
            (
                "metrics",
                .object(
                    JSONObject([
                        ("compactions", .int(compactions)), ("tokensSaved", .int(tokensSaved)),
                        ("lastCompactionMs", .optional(lastCompactionMs)),
                        ("lastCompactionAt", lastCompactionAt.map { .string(Timestamp.iso8601($0)) } ?? .null),
                    ]))
            ),
        ])
    }

    /// The full form used by `session:get`: the summary plus context and agent description.
    public var detailJSON: JSONObject {
        var object = summaryJSON
        object["context"] = (try? JSONParser.parse(context)) ?? .null
        object["agentDescription"] = (try? JSONParser.parse(agentDescription)) ?? .null
        return object
    }
}
