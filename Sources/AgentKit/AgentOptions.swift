import ArgumentParser
import BrokerClient
import BrokerProtocol
import ModelProviders
import ZeroMQ

/// Where the broker is: the same flags, environment and defaults as the broker itself.
public struct BrokerEndpointOptions: ParsableArguments {
    @Option(help: "The broker's api endpoint (env BROKER_API; default tcp://127.0.0.1:5555).")
    public var api: String?
    @Option(help: "The broker's workers endpoint (env BROKER_WORKERS; default tcp://127.0.0.1:5557).")
    public var workers: String?
    @Option(help: "This client's CURVE .key_secret file, for a broker with keys (env BROKER_CURVE_KEY).")
    public var curveKey: String?
    @Option(help: "The broker's public CURVE .key file (env BROKER_CURVE_SERVER_KEY).")
    public var curveServerKey: String?

    public init() {}

    /// The CURVE keys from the flags or `BROKER_CURVE_KEY`/`BROKER_CURVE_SERVER_KEY`; nil for a plain broker.
    public func curveKeys(warn: (String) -> Void) throws(AgentError) -> CurveClientKeys? {
        do { return try ClientKeys.load(keyFile: curveKey, serverKeyFile: curveServerKey, warn: warn) } catch {
            throw AgentError("\(error)")
        }
    }

    public var apiEndpoint: String { api ?? ProcessIO.environment("BROKER_API") ?? "tcp://127.0.0.1:5555" }
    public var workersEndpoint: String {
        workers ?? ProcessIO.environment("BROKER_WORKERS") ?? "tcp://127.0.0.1:5557"
    }
}

/// The options every agent takes: broker endpoints, worker identity, heartbeats and the model provider.
public struct AgentOptions: ParsableArguments {
    @OptionGroup public var broker: BrokerEndpointOptions
    @Option(help: "The service to serve (default: the agent's role: pm, dev, qa, harness or merge).")
    public var service: String?
    @Option(help: "A name for this worker in events and `brokerctl worker ls`.")
    public var name: String?
    @Option(help: "Model provider: openai, anthropic, command or replay (env AGENTBROKER_MODEL_PROVIDER).")
    public var provider: String?
    @Option(help: "Model name (env AGENTBROKER_MODEL).")
    public var model: String?
    @Option(help: "Base URL of an OpenAI-compatible or Anthropic API (env AGENTBROKER_MODEL_ENDPOINT).")
    public var endpoint: String?
    @Option(help: "The environment variable holding the API key (default OPENAI_API_KEY or ANTHROPIC_API_KEY).")
    public var apiKeyEnv: String?
    @Option(help: "For --provider command: the program and its arguments, e.g. \"claude -p\".")
    public var modelCommand: String?
    @Option(help: "For --provider replay: a JSON array of recorded answers, played in order.")
    public var replayFile: String?
    @Option(help: "Seconds a model call may take.")
    public var modelTimeout: Double = 600
    @Option(help: "A JSON file with a \"model\" object: {provider, model, endpoint, apiKeyEnv, command, replayFile}.")
    public var config: String?
    @Option(help: "Milliseconds between heartbeats (match the broker's dispatch.heartbeatMs).")
    public var heartbeatMs: Int64 = 2_500
    @Option(help: "Missed heartbeats after which the broker counts as lost and the agent reconnects.")
    public var liveness: Int64 = 3

    public init() {}

    /// The provider settings from flags, else the environment, else the configuration file; nil when none is set.
    public func modelSettings() throws(AgentError) -> ModelProviderSettings? {
        var object = JSONObject()
        if let path = config {
            guard let bytes = ProcessIO.readFile(path) else {
                throw AgentError("cannot read \(path): \(ProcessIO.lastErrorMessage)")
            }
            guard let file = (try? JSONParser.parse(bytes))?.objectValue else {
                throw AgentError("\(path) must hold a JSON object")
            }
            if let model = file["model"] {
                guard let settings = model.objectValue else { throw AgentError("\(path): 'model' must be an object") }
                object = settings
            }
        }
        // An empty variable counts as unset, as for the broker's own settings.
        var environment = ProcessIO.environment().filter { !$0.value.isEmpty }
        let flags: [(String, String?, String)] = [
            ("provider", provider, "AGENTBROKER_MODEL_PROVIDER"), ("model", model, "AGENTBROKER_MODEL"),
            ("endpoint", endpoint, "AGENTBROKER_MODEL_ENDPOINT"), ("apiKeyEnv", apiKeyEnv, "AGENTBROKER_MODEL_KEY_ENV"),
            ("replayFile", replayFile, "AGENTBROKER_REPLAY_FILE"),
        ]
        for (key, value, variable) in flags {
            guard let value else { continue }
            object[key] = .string(value)
            environment[variable] = nil  // a flag wins over the environment
        }
        if let modelCommand {
            object["command"] = .array(modelCommand.split(separator: " ").map { .string(String($0)) })
            environment["AGENTBROKER_MODEL_COMMAND"] = nil
        }
        object["timeoutSeconds"] = .double(modelTimeout)
        guard object["provider"] != nil || environment["AGENTBROKER_MODEL_PROVIDER"] != nil else { return nil }
        do { return try ModelProviderSettings.resolve(object, environment: environment) } catch {
            throw AgentError("\(error)")
        }
    }
}
