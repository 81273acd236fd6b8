import BrokerProtocol

/// One turn of a conversation sent to a model.
public struct ModelMessage: Sendable, Equatable {
    /// `user` or `assistant` (the system prompt travels apart, in `ModelRequest.system`).
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// What is asked of a model: a system prompt, the conversation, and limits.
public struct ModelRequest: Sendable, Equatable {
    public var system: String
    public var messages: [ModelMessage]
    public var maxTokens: Int
    public var temperature: Double?

    public init(system: String, messages: [ModelMessage], maxTokens: Int = 4_096, temperature: Double? = nil) {
        self.system = system
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
    }

    /// The request as one text, for providers that take a plain prompt (`command`).
    public var plainPrompt: String {
        var parts = system.isEmpty ? [] : ["# System\n\n" + system]
        for message in messages { parts.append("# \(message.role.capitalized)\n\n" + message.content) }
        return parts.joined(separator: "\n\n")
    }
}

/// A model's answer, with the usage figures the provider reported (nil when it reported none).
public struct ModelResponse: Sendable, Equatable {
    public var text: String
    public var model: String?
    public var inputTokens: Int?
    public var outputTokens: Int?

    public init(text: String, model: String? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil) {
        self.text = text
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

/// Why a model call produced no answer.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The endpoint answered with an error status (the body's message, shortened).
    case http(status: Int, message: String)
    /// No complete answer within the time-out.
    case timeout(seconds: Double)
    /// The answer was not in the provider's documented shape.
    case malformed(String)
    /// The connection failed (refused, reset, DNS).
    case transport(String)
    /// The `command` provider's program failed.
    case command(exitCode: Int32, stderr: String)
    /// The `replay` provider has played every recorded answer.
    case exhausted(String)
    /// The provider is misconfigured (missing key, bad URL).
    case configuration(String)

    public var description: String {
        switch self {
        case .http(let status, let message): "model endpoint answered HTTP \(status): \(message)"
        case .timeout(let seconds): "no answer from the model within \(seconds) s"
        case .malformed(let what): "malformed model answer: \(what)"
        case .transport(let what): "cannot reach the model endpoint: \(what)"
        case .command(let code, let stderr): "model command exited with \(code): \(stderr)"
        case .exhausted(let file): "no recorded answers left in \(file)"
        case .configuration(let what): "model provider configuration: \(what)"
        }
    }

    /// Whether trying again may succeed (rate limits, server errors, time-outs, broken connections).
    public var isTransient: Bool {
        switch self {
        case .http(let status, _): status == 429 || status >= 500
        case .timeout, .transport: true
        default: false
        }
    }
}

/// A way to reach a model: an HTTP API, a local command, or recorded answers.
///
/// Calls block the calling thread; call them from a thread of your own, never
/// from Swift's cooperative pool. Implementations never log or print keys.
public protocol ModelProvider: Sendable {
    /// A short label for logs and events, such as `openai:gpt-4o-mini` (never a key).
    var label: String { get }
    func complete(_ request: ModelRequest) throws(ModelError) -> ModelResponse
}

/// Providers print as their label, so a key they hold never reaches a log through `"\(provider)"` or `dump`.
extension OpenAICompatibleProvider: CustomStringConvertible, CustomReflectable {
    public var description: String { label }
    public var customMirror: Mirror { Mirror(self, children: ["label": label]) }
}

extension AnthropicProvider: CustomStringConvertible, CustomReflectable {
    public var description: String { label }
    public var customMirror: Mirror { Mirror(self, children: ["label": label]) }
}
