import BrokerProtocol
import SessionCore

/// How the broker treats workers and jobs: config key `dispatch`.
public struct DispatchSettings: Sendable, Equatable {
    /// How often the broker and workers send HEARTBEAT.
    public var heartbeatMs: Int64 = 2_500
    /// Heartbeats a worker may miss before it is dropped and its job re-queued.
    public var liveness: Int64 = 3
    /// Dispatches a job may take (a lost worker costs one) when `job:submit` gives no `maxAttempts`.
    public var maxAttempts: Int64 = 3
    /// A job's deadline, from submission, when `job:submit` gives no `timeoutMs`.
    public var jobTimeoutMs: Int64 = 1_800_000

    public init() {}

    /// How long a silent worker stays registered.
    public var expiryMs: Int64 { heartbeatMs * liveness }

    static let keys: Set<String> = ["heartbeatMs", "liveness", "maxAttempts", "jobTimeoutMs"]

    /// Settings from `{heartbeatMs?, liveness?, maxAttempts?, jobTimeoutMs?}`; unknown keys are errors.
    static func resolve(_ object: JSONObject) throws(ConfigurationError) -> DispatchSettings {
        for key in object.keys where !keys.contains(key) {
            throw ConfigurationError(
                "config 'dispatch' has an unknown key '\(key)' (known: \(keys.sorted().joined(separator: ", ")))")
        }
        func value(_ key: String, _ range: ClosedRange<Int64>) throws(ConfigurationError) -> Int64? {
            guard let json = object[key] else { return nil }
            guard let number = json.intValue, range.contains(number) else {
                throw ConfigurationError(
                    "config 'dispatch.\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        var settings = DispatchSettings()
        if let number = try value("heartbeatMs", 50...60_000) { settings.heartbeatMs = number }
        if let number = try value("liveness", 1...100) { settings.liveness = number }
        if let number = try value("maxAttempts", SubmitJob.attemptsRange) { settings.maxAttempts = number }
        if let number = try value("jobTimeoutMs", SubmitJob.timeoutRange) { settings.jobTimeoutMs = number }
        return settings
    }
}
