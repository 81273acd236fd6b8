import BrokerProtocol

/// `session:addMessage`.
public struct AddMessage: Sendable {
    public var sessionId: String
    public var role: Role
    public var content: String
    public var messageId: String?
    public var name: String?
    public var toolCallId: String?
    /// Serialized JSON object, stored as given.
    public var metadata: String?
    /// The message's token count when it was computed before the writer (see `countTokens`).
    public var tokens: Int64?
    /// The tokens of the message's block in a built request (`RequestLayout.messageBlock`), likewise.
    public var promptTokens: Int64?

    public init(params: Params, maxContentBytes: Int) throws(RPCError) {
        try params.requireOnly(["sessionId", "role", "content", "messageId", "name", "toolCallId", "metadata"])
        sessionId = try params.identifier("sessionId")
        let roleName = try params.string("role", maxBytes: 64)
        guard let role = Role(rawValue: roleName) else {
            throw RPCError.invalidParams(
                "'role' must be one of system, user, assistant, tool; got '\(roleName)'", field: "role")
        }
        self.role = role
        content = try params.string("content", maxBytes: maxContentBytes)
        messageId = try params.clientId("messageId")
        name = try params.optionalIdentifier("name")
        toolCallId = try params.clientId("toolCallId")
        metadata = try params.optionalObject("metadata").map { JSON.object($0).serializedString }
    }

    /// Counts the message's tokens now, off the writer thread, which every write waits on.
    public mutating func countTokens(with counter: any TokenCounter) {
        tokens = Int64(MessageTokens.count(content: content, name: name, counter: counter))
        promptTokens = Int64(counter.count(block))
    }

    /// The message as it appears in a built request.
    public var block: String {
        RequestLayout.messageBlock(role: role.rawValue, content: content, name: name, toolCallId: toolCallId)
    }
}

/// `session:updateCheckpoint`: fields not given carry over from the current version.
public struct UpdateCheckpoint: Sendable {
    public var sessionId: String
    public var summary: String?
    public var completed: [String]?
    public var pending: [String]?
    public var decisions: [String]?
    public var blockers: [String]?
    public var expectedVersion: Int64?
    public var requestId: String?

    public init(params: Params) throws(RPCError) {
        try params.requireOnly([
            "sessionId", "summary", "completed", "pending", "decisions", "blockers", "expectedVersion", "requestId",
        ])
        sessionId = try params.identifier("sessionId")
        summary = try params.optionalString("summary")
        completed = try params.optionalStrings("completed")
        pending = try params.optionalStrings("pending")
        decisions = try params.optionalStrings("decisions")
        blockers = try params.optionalStrings("blockers")
        expectedVersion = try params.optionalInt("expectedVersion", range: 0...Int64.max)
        requestId = try params.clientId("requestId")
    }
}
