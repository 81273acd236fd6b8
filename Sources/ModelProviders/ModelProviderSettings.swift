import BrokerProtocol
import Foundation

/// Which provider to use and how to reach it, from a configuration object and the environment.
///
/// Keys are never part of the settings' description: they are read from an
/// environment variable (`apiKeyEnv`, by default `OPENAI_API_KEY` or
/// `ANTHROPIC_API_KEY`) when the provider is made.
public struct ModelProviderSettings: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable { case openai, anthropic, command, replay }

    public var kind: Kind
    public var endpoint: String?
    public var model: String?
    public var apiKeyEnv: String?
    public var command: [String]
    public var replayFile: String?
    public var timeoutSeconds: Double

    public init(
        kind: Kind, endpoint: String? = nil, model: String? = nil, apiKeyEnv: String? = nil, command: [String] = [],
        replayFile: String? = nil, timeoutSeconds: Double = 120
    ) {
        self.kind = kind
        self.endpoint = endpoint
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.command = command
        self.replayFile = replayFile
        self.timeoutSeconds = timeoutSeconds
    }

    public var description: String {
        "\(kind.rawValue) provider" + (model.map { ", model \($0)" } ?? "") + (endpoint.map { " at \($0)" } ?? "")
    }

    /// Settings from a configuration object `{provider, endpoint?, model?, apiKeyEnv?, command?, replayFile?,
    /// timeoutSeconds?}`, overridden by `AGENTBROKER_MODEL_PROVIDER`, `…_ENDPOINT`, `AGENTBROKER_MODEL`,
    /// `AGENTBROKER_MODEL_COMMAND` (split on spaces) and `AGENTBROKER_REPLAY_FILE`.
    public static func resolve(_ object: JSONObject, environment: [String: String]) throws(ModelError) -> Self {
        func text(_ key: String, _ variable: String) throws(ModelError) -> String? {
            if let value = environment[variable], !value.isEmpty { return value }
            guard let value = object[key] else { return nil }
            guard let string = value.stringValue else { throw .configuration("'\(key)' must be a string") }
            return string
        }
        guard let kindName = try text("provider", "AGENTBROKER_MODEL_PROVIDER") else {
            throw .configuration("no provider given (openai, anthropic, command or replay)")
        }
        guard let kind = Kind(rawValue: kindName) else {
            throw .configuration("unknown provider '\(kindName)' (openai, anthropic, command or replay)")
        }
        var command = object["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let line = environment["AGENTBROKER_MODEL_COMMAND"], !line.isEmpty {
            command = line.split(separator: " ").map(String.init)
        }
        return Self(
            kind: kind, endpoint: try text("endpoint", "AGENTBROKER_MODEL_ENDPOINT"),
            model: try text("model", "AGENTBROKER_MODEL"),
            apiKeyEnv: try text("apiKeyEnv", "AGENTBROKER_MODEL_KEY_ENV"),
            command: command, replayFile: try text("replayFile", "AGENTBROKER_REPLAY_FILE"),
            timeoutSeconds: object["timeoutSeconds"]?.doubleValue ?? 120)
    }

    /// Makes the provider, reading its key from the environment.
    public func makeProvider(environment: [String: String]) throws(ModelError) -> any ModelProvider {
        switch kind {
        case .openai:
            let url = try parseURL(endpoint ?? "https://api.openai.com/v1")
            let key = environment[apiKeyEnv ?? "OPENAI_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            return OpenAICompatibleProvider(
                baseURL: url, model: model ?? "gpt-4o-mini", apiKey: key, timeoutSeconds: timeoutSeconds)
        case .anthropic:
            let url = try parseURL(endpoint ?? "https://api.anthropic.com")
            let variable = apiKeyEnv ?? "ANTHROPIC_API_KEY"
            guard let key = environment[variable], !key.isEmpty else {
                throw .configuration("the Anthropic provider needs a key in $\(variable)")
            }
            return AnthropicProvider(
                baseURL: url, model: model ?? "claude-sonnet-4-5", apiKey: key, timeoutSeconds: timeoutSeconds)
        case .command:
            guard let executable = command.first else {
                throw .configuration("the command provider needs 'command' (or AGENTBROKER_MODEL_COMMAND)")
            }
            return CommandProvider(
                executable: executable, arguments: Array(command.dropFirst()), timeoutSeconds: timeoutSeconds)
        case .replay:
            guard let replayFile else {
                throw .configuration("the replay provider needs 'replayFile' (or AGENTBROKER_REPLAY_FILE)")
            }
            return try ReplayProvider(path: replayFile)
        }
    }

    private func parseURL(_ text: String) throws(ModelError) -> URL {
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw .configuration("endpoint '\(text)' is not an http(s) URL")
        }
        return url
    }
}
