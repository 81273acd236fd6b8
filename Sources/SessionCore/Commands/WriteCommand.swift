import BrokerProtocol

/// A mutating request, validated and typed before it reaches the writer.
///
/// Parsing happens on the thread that received the request, so bad
/// parameters are answered without queueing behind writes.
public enum WriteCommand: Sendable {
    case createSession(CreateSession)
    case addMessage(AddMessage)
    case updateCheckpoint(UpdateCheckpoint)
    case setContext(SetDocument)
    case setAgentDescription(SetDocument)
    case clearMessages(SessionAction)
    case reset(SessionAction)
    case delete(SessionAction)
    /// Internal (the compactor's): swaps a new checkpoint in and archives the summarised messages.
    case applyCompaction(CompactionSwap)
    /// Internal: records and publishes an event that comes with no other write.
    case emitEvent(topic: String, fields: JSONObject)
    case submitJob(SubmitJob)
    case cancelJob(CancelJob)
    /// Internal (the dispatcher's): a job started, was re-queued, completed or failed.
    case jobTransition(JobTransition)
    case createTask(CreateTask)
    case updateTask(UpdateTask)
    case recordIteration(RecordIteration)
    /// A validated import file (`import:commit`); the writer runs it in a transaction of its own.
    case importFile(ImportPlan)

    /// The client-made id that makes a retry return the first result, when the command has one
    /// outside its natural key (`sessionId` for create, `messageId` for addMessage).
    var requestId: String? {
        switch self {
        case .createSession, .addMessage: nil
        case .updateCheckpoint(let command): command.requestId
        case .setContext(let command), .setAgentDescription(let command): command.requestId
        case .clearMessages(let command), .reset(let command), .delete(let command): command.requestId
        case .applyCompaction(let swap): swap.requestId
        case .updateTask(let command): command.requestId
        case .recordIteration(let command): command.requestId
        case .emitEvent, .submitJob, .cancelJob, .jobTransition, .createTask, .importFile: nil
        }
    }
}

/// Limits applied to request parameters.
public enum Limits {
    /// The largest `requestId`, `messageId` or `sessionId` a client may choose.
    public static let idBytes = 128
    /// The largest context or agent description, serialized.
    public static let documentBytes = 1 << 20
    /// Token limits a session may have.
    public static let tokenLimitRange: ClosedRange<Int64> = 256...10_000_000
}

extension Params {
    /// An optional client-chosen id: non-empty, at most `Limits.idBytes`, printable ASCII.
    public func clientId(_ key: String) throws(RPCError) -> String? {
        guard let value = try optionalString(key, maxBytes: Limits.idBytes) else { return nil }
        guard !value.isEmpty, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RPCError.invalidParams(
                "'\(key)' must be 1 to \(Limits.idBytes) printable ASCII characters", field: key)
        }
        return value
    }
}
