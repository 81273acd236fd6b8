import BrokerProtocol

/// `session:create`.
public struct CreateSession: Sendable {
    public var sessionId: String?
    public var type: String
    public var featureId: String
    public var taskId: String?
    public var state: String
    public var context: JSON
    public var agentDescription: JSON
    public var tokenLimit: Int64?

    public init(params: Params) throws(RPCError) {
        try params.requireOnly(
            ["sessionId", "type", "featureId", "taskId", "state", "context", "agentDescription", "tokenLimit"])
        sessionId = try params.clientId("sessionId")
        type = try params.identifier("type")
        featureId = try params.identifier("featureId")
        taskId = try params.optionalIdentifier("taskId")
        state = try params.optionalIdentifier("state") ?? "planning"
        context = try params.document("context")
        agentDescription = try params.document("agentDescription")
        tokenLimit = try params.optionalInt("tokenLimit", range: Limits.tokenLimitRange)
    }
}

/// `session:setContext` and `session:setAgentDescription`: replace one document of a session.
public struct SetDocument: Sendable {
    public var sessionId: String
    public var value: JSON
    public var requestId: String?

    public init(params: Params, key: String) throws(RPCError) {
        try params.requireOnly(["sessionId", key, "requestId"])
        sessionId = try params.identifier("sessionId")
        guard params[key] != nil else { throw RPCError.invalidParams("missing parameter '\(key)'", field: key) }
        value = try params.document(key)
        requestId = try params.clientId("requestId")
    }
}

/// `session:clearMessages`, `session:reset`, `session:delete`: an action on a whole session.
public struct SessionAction: Sendable {
    public var sessionId: String
    public var requestId: String?

    public init(params: Params) throws(RPCError) {
        try params.requireOnly(["sessionId", "requestId"])
        sessionId = try params.identifier("sessionId")
        requestId = try params.clientId("requestId")
    }
}

extension Params {
    /// A context or agent description: an object or a string (null or absent means empty object).
    func document(_ key: String) throws(RPCError) -> JSON {
        guard let value = self[key], !value.isNull else { return .object(JSONObject()) }
        switch value {
        case .object, .string:
            let size = value.serialized.count
            if size > Limits.documentBytes {
                throw RPCError(
                    .tooLarge, "'\(key)' is \(size) bytes; the limit is \(Limits.documentBytes)",
                    details: JSONObject([("field", .string(key)), ("limit", .int(Limits.documentBytes))]))
            }
            return value
        default:
            throw RPCError.invalidParams("'\(key)' must be an object or a string, got \(value.typeName)", field: key)
        }
    }
}
