import BrokerClient
import BrokerProtocol
import ZeroMQ

/// Why an agent's job (or a ralph step) failed; the message is what the user reads.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The broker never answered (down, or with CURVE: a key it does not know, or a wrong server key).
    public let unreachable: Bool
    public init(_ description: String, unreachable: Bool = false) {
        self.description = description
        self.unreachable = unreachable
    }
}

/// The calls agents and ralph make on the broker's api endpoint. One per thread (it owns a socket).
public final class BrokerLink {
    let client: RPCClient

    public init(endpoint: String, context: ZMQContext, timeoutMs: Int = 10_000, curve: CurveClientKeys? = nil) {
        client = RPCClient(endpoint: endpoint, context: context, timeoutMs: timeoutMs, attempts: 3, curve: curve)
    }

    /// Calls `method`; an RPC error or an unreachable broker becomes an `AgentError` naming the method.
    @discardableResult
    public func call(_ method: String, _ params: JSONObject, timeoutMs: Int? = nil) throws(AgentError) -> JSONObject {
        let saved = client.timeoutMs
        if let timeoutMs { client.timeoutMs = timeoutMs }
        defer { client.timeoutMs = saved }
        do {
            return try client.call(method, params).objectValue ?? JSONObject()
        } catch {
            throw Self.agentError(method, error)
        }
    }

    static func agentError(_ method: String, _ error: ClientError) -> AgentError {
        if case .unreachable = error { return AgentError("\(method): \(error)", unreachable: true) }
        return AgentError("\(method): \(error)")
    }

    /// The error kind when `method` failed with one (`not_found`), else nil; other failures throw.
    public func callAllowing(_ kind: ErrorKind, _ method: String, _ params: JSONObject) throws(AgentError)
        -> JSONObject?
    {
        do {
            return try client.call(method, params).objectValue ?? JSONObject()
        } catch {
            if case .rpc(let rpcError) = error, rpcError.kind == kind { return nil }
            throw Self.agentError(method, error)
        }
    }

    /// Makes the session if it does not exist (client-chosen id, so a retry finds it).
    public func ensureSession(_ id: String, type: String, featureId: String, taskId: String?) throws(AgentError) {
        var params = JSONObject([
            ("sessionId", .string(id)), ("type", .string(type)), ("featureId", .string(featureId)),
        ])
        if let taskId { params["taskId"] = .string(taskId) }
        try call("session:create", params)
    }

    public func task(_ id: String) throws(AgentError) -> JSONObject {
        try call("task:get", JSONObject([("taskId", .string(id))]))
    }

    /// Replaces the fields given in the session's checkpoint; the rest is kept.
    public func updateCheckpoint(_ sessionId: String, _ fields: JSONObject) throws(AgentError) {
        var params = fields
        params["sessionId"] = .string(sessionId)
        try call("session:updateCheckpoint", params)
    }

    public func checkpoint(_ sessionId: String) throws(AgentError) -> JSONObject {
        try call("session:getCheckpoint", JSONObject([("sessionId", .string(sessionId))]))
    }

    /// Stores a message; `messageId` makes a retried add (or a retried job) store it once.
    public func addMessage(
        _ sessionId: String, role: String, content: String, messageId: String, metadata: JSONObject? = nil
    ) throws(AgentError) {
        var params = JSONObject([
            ("sessionId", .string(sessionId)), ("role", .string(role)), ("content", .string(content)),
            ("messageId", .string(messageId)),
        ])
        if let metadata { params["metadata"] = .object(metadata) }
        try call("session:addMessage", params)
    }
}
