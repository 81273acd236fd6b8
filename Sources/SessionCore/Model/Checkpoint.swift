import BrokerProtocol

/// A versioned summary of a session: what is done, what is left, what was decided, what blocks.
public struct Checkpoint: Sendable, Equatable {
    public var version: Int64
    public var summary: String
    public var completed: [String]
    public var pending: [String]
    public var decisions: [String]
    public var blockers: [String]
    public var updatedAt: EpochMillis

    public init(
        version: Int64 = 0, summary: String = "", completed: [String] = [], pending: [String] = [],
        decisions: [String] = [], blockers: [String] = [], updatedAt: EpochMillis = 0
    ) {
        self.version = version
        self.summary = summary
        self.completed = completed
        self.pending = pending
        self.decisions = decisions
        self.blockers = blockers
        self.updatedAt = updatedAt
    }

    /// The wire form, as `session:getCheckpoint` answers it.
    public func json(sessionId: String) -> JSON {
        .object(
            JSONObject([
                ("sessionId", .string(sessionId)), ("version", .int(version)), ("summary", .string(summary)),
                ("completed", .strings(completed)), ("pending", .strings(pending)),
                ("decisions", .strings(decisions)), ("blockers", .strings(blockers)),
                ("updatedAt", .string(Timestamp.iso8601(updatedAt))),
            ]))
    }

    /// The text whose tokens the checkpoint costs in a request (the request builder renders the same fields).
    public var countedText: String {
        ([summary] + completed + pending + decisions + blockers).joined(separator: "\n")
    }
}

/// Encodes a string list as a JSON array for a TEXT column.
func encodeList(_ items: [String]) -> String { JSON.strings(items).serializedString }

/// Decodes a TEXT column written by `encodeList`.
func decodeList(_ text: String) -> [String] {
    (try? JSONParser.parse(text))?.arrayValue?.compactMap(\.stringValue) ?? []
}
