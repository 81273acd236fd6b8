import BrokerProtocol
import ModelProviders
import SessionCore

/// How the broker compacts sessions: when (the policy), how often it retries, and with which summarizer.
public struct CompactionSettings: Sendable, Equatable {
    public var policy = CompactionPolicy()
    /// Attempts at applying one automatic compaction before it is given up (`compaction:error`, `willRetry: false`).
    public var maxAttempts = 3
    /// The wait before the second attempt; it doubles for each further one.
    public var retryDelayMillis = 1_000
    /// nil: the embedded summarizer. Otherwise the model behind the model-backed one.
    public var model: ModelProviderSettings?
    /// Further tries of the model after a malformed or lossy summary, before the embedded summarizer takes over.
    public var modelRetries = 1

    public init() {}

    /// Reads the `compaction` object of a configuration file, then `BROKER_COMPACTION_THRESHOLD` and
    /// `BROKER_SUMMARIZER`. A model summarizer's endpoint, model and key come from the object's
    /// `summarizer` member and the `AGENTBROKER_MODEL_*` variables, as for the agents.
    static func resolve(_ object: JSONObject, environment: [String: String]) throws(ConfigurationError) -> Self {
        var settings = CompactionSettings()
        for key in object.keys
        where !["threshold", "cooldownMs", "minGainTokens", "maxAttempts", "summarizer"].contains(key) {
            throw ConfigurationError("config 'compaction' has an unknown key '\(key)'")
        }
        var threshold = object["threshold"]?.doubleValue
        if object["threshold"] != nil && threshold == nil {
            throw ConfigurationError("config 'compaction.threshold' must be a number")
        }
        if let text = environment["BROKER_COMPACTION_THRESHOLD"], !text.isEmpty {
            guard let value = Double(text) else {
                throw ConfigurationError("BROKER_COMPACTION_THRESHOLD must be a number, not '\(text)'")
            }
            threshold = value
        }
        if let threshold {
            guard let parsed = CompactionPolicy.Threshold(threshold) else {
                throw ConfigurationError(
                    "the compaction threshold must be a fraction in (0, 1] of the token limit or a token count above 1")
            }
            settings.policy.threshold = parsed
        }
        if let value = try integer(object, "cooldownMs", 0...86_400_000) {
            settings.policy.cooldownMillis = Int64(value)
        }
        if let value = try integer(object, "minGainTokens", 0...10_000_000) {
            settings.policy.minGainTokens = Int64(value)
        }
        if let value = try integer(object, "maxAttempts", 1...100) { settings.maxAttempts = value }
        var summarizer = object["summarizer"]?.objectValue ?? JSONObject()
        if object["summarizer"] != nil && object["summarizer"]?.objectValue == nil {
            throw ConfigurationError("config 'compaction.summarizer' must be an object")
        }
        if let name = environment["BROKER_SUMMARIZER"], !name.isEmpty { summarizer["provider"] = .string(name) }
        if let value = try integer(summarizer, "retries", 0...10) { settings.modelRetries = value }
        summarizer["retries"] = nil
        let provider = summarizer["provider"]?.stringValue ?? "embedded"
        guard provider != "embedded" else { return settings }
        // The provider is chosen here; AGENTBROKER_MODEL_PROVIDER picks the agents' model, not this one.
        var modelEnvironment = environment
        modelEnvironment["AGENTBROKER_MODEL_PROVIDER"] = nil
        do {
            let model = try ModelProviderSettings.resolve(summarizer, environment: modelEnvironment)
            _ = try model.makeProvider(environment: environment)  // a missing key or bad URL stops the start
            settings.model = model
        } catch {
            throw ConfigurationError("compaction summarizer: \(error)")
        }
        return settings
    }

    private static func integer(_ object: JSONObject, _ key: String, _ range: ClosedRange<Int>)
        throws(ConfigurationError) -> Int?
    {
        guard let value = object[key] else { return nil }
        guard let number = value.intValue, range.contains(Int(number)) else {
            throw ConfigurationError(
                "config 'compaction.\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(number)
    }
}
