import BrokerProtocol

/// A stored message as the compactor reads it.
public struct StoredMessage: Sendable, Equatable {
    public var seq: Int64
    public var role: String
    public var content: String
    public var name: String?
    public var toolCallId: String?
    /// Serialized JSON object, or nil.
    public var metadata: String?
    public var tokens: Int64
    public var promptTokens: Int64

    public init(
        seq: Int64, role: String, content: String, name: String? = nil, toolCallId: String? = nil,
        metadata: String? = nil, tokens: Int64 = 0, promptTokens: Int64 = 0
    ) {
        self.seq = seq
        self.role = role
        self.content = content
        self.name = name
        self.toolCallId = toolCallId
        self.metadata = metadata
        self.tokens = tokens
        self.promptTokens = promptTokens
    }

    /// The ids of the tool calls an assistant message makes: `metadata.toolCalls` or
    /// `metadata.tool_calls` (OpenAI's shape), items with a string `id`.
    public var toolCallIds: [String] {
        guard role == Role.assistant.rawValue, let metadata, metadata.contains("tool") else { return [] }
        guard let object = (try? JSONParser.parse(metadata))?.objectValue else { return [] }
        let calls = object["toolCalls"]?.arrayValue ?? object["tool_calls"]?.arrayValue ?? []
        return calls.compactMap { $0.objectValue?["id"]?.stringValue }
    }
}

/// Which messages a compaction summarises and archives.
///
/// Every active message at the snapshot is archived, except that the range
/// stops before the earliest assistant message whose tool calls are not all
/// answered (a `tool` message with that `toolCallId`) inside the range: a
/// tool call and its result are never split, so the call stays active with
/// the results still to come. Messages stored after the snapshot are not in
/// the plan and stay active.
public struct CompactionPlan: Sendable {
    public var session: SessionRecord
    public var checkpoint: Checkpoint
    public var archived: [StoredMessage]
    /// Active messages left active (an unanswered tool call and what follows it).
    public var keptCount: Int
    public var throughSeq: Int64
    public var archivedTokens: Int64
    public var archivedPromptTokens: Int64

    public init(session: SessionRecord, checkpoint: Checkpoint, active: [StoredMessage]) {
        self.session = session
        self.checkpoint = checkpoint
        let end = Self.safeEnd(active)
        archived = Array(active[..<end])
        keptCount = active.count - end
        throughSeq = archived.last?.seq ?? (session.firstActiveSeq - 1)
        archivedTokens = archived.reduce(0) { $0 + $1.tokens }
        archivedPromptTokens = archived.reduce(0) { $0 + $1.promptTokens }
    }

    /// The end of the longest prefix that splits no tool call from its results.
    static func safeEnd(_ messages: [StoredMessage]) -> Int {
        var end = messages.count
        var answered: [String: Int] = [:]  // toolCallId -> index of its first result
        for (index, message) in messages.enumerated() where message.role == Role.tool.rawValue {
            if let id = message.toolCallId, answered[id] == nil { answered[id] = index }
        }
        let calls = messages.enumerated().map { ($0.offset, $0.element.toolCallIds) }.filter { !$0.1.isEmpty }
        // A cut can strand an earlier call whose result came after it, so cut again until nothing is split.
        while let (index, _) = calls.first(where: { index, ids in
            index < end && ids.contains { id in (answered[id].map { $0 >= end } ?? true) }
        }) {
            end = index
        }
        return end
    }
}
