import BrokerClient
import BrokerProtocol
import ModelProviders
import Synchronization

/// Whether a role cannot work without a model, or asks one only sometimes (a review, a conflict).
public enum ModelNeed: Sendable {
    case required, optional
}

/// One of the five agents: its service, its standing instructions, and what it does with one job.
public protocol AgentRole: Sendable {
    /// The service it serves by default (`pm`, `dev`, `qa`, `harness`, `merge`).
    var service: String { get }
    var modelNeed: ModelNeed { get }
    /// The session's agent description: the role's standing instructions to the model.
    var agentDescription: String { get }
    /// Does one job and returns its result; an `AgentError` fails the job with its message.
    func perform(_ job: WorkerJob, _ context: JobContext) throws(AgentError) -> JSON
}

/// What a job handler has at hand.
public struct JobContext {
    public let job: WorkerJob
    public let link: BrokerLink
    public let modelSettings: ModelProviderSettings?
    public let log: @Sendable (String) -> Void

    /// The configured model; for `command`, the program runs in `workingDirectory` (a Dev worktree), so a
    /// coding CLI may edit files there itself.
    public func provider(workingDirectory: String? = nil) throws(AgentError) -> any ModelProvider {
        guard let settings = modelSettings else {
            throw AgentError("this agent has no model provider (--provider, AGENTBROKER_MODEL_PROVIDER or --config)")
        }
        if settings.kind == .command, let executable = settings.command.first {
            return CommandProvider(
                executable: executable, arguments: Array(settings.command.dropFirst()),
                workingDirectory: workingDirectory, timeoutSeconds: settings.timeoutSeconds)
        }
        do { return try SharedProviders.provider(for: settings) } catch { throw AgentError("\(error)") }
    }

    /// A key unique to this job attempt, for message ids.
    public var key: String { "\(job.jobId)#\(job.attempt)" }

    /// The payload's string member, or an error naming it.
    public func payloadString(_ key: String) throws(AgentError) -> String {
        guard let value = job.payload[key]?.stringValue, !value.isEmpty else {
            throw AgentError("the job's payload has no '\(key)'")
        }
        return value
    }

    /// Sets the session's agent description and context, so a request built now carries them.
    public func prepareSession(_ sessionId: String, description: String, context: JSONObject) throws(AgentError) {
        try link.call(
            "session:setAgentDescription",
            JSONObject([("sessionId", .string(sessionId)), ("agentDescription", .string(description))]))
        try link.call(
            "session:setContext", JSONObject([("sessionId", .string(sessionId)), ("context", .object(context))]))
    }
}

/// One provider per process, so a replay file's position is shared by every job the agent runs.
enum SharedProviders {
    private static let made = Mutex<(any ModelProvider)?>(nil)

    static func provider(for settings: ModelProviderSettings) throws(ModelError) -> any ModelProvider {
        try made.withLock { (made: inout (any ModelProvider)?) throws(ModelError) -> any ModelProvider in
            if let made { return made }
            let provider = try settings.makeProvider(environment: ProcessIO.environment())
            made = provider
            return provider
        }
    }
}
