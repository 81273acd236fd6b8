import BrokerProtocol
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

extension BrokerConfiguration {
    /// The keys a configuration file may hold (JSON object); anything else is an error, so typos are caught.
    static let fileKeys: Set<String> = [
        "api", "events", "workers", "db", "sync", "maxRequestBytes", "maxReplyBytes", "readerThreads", "tokenLimit",
        "logLevel", "compaction", "dispatch", "curve", "insecure",
    ]

    /// Resolves each setting from the flag, else the environment, else the configuration file, else the default.
    ///
    /// The file is `flags.configFile`, else `BROKER_CONFIG`; none is needed.
    public static func resolve(flags: ConfigurationOverrides, environment: [String: String]) throws(ConfigurationError)
        -> BrokerConfiguration
    {
        var file = JSONObject()
        if let path = flags.configFile ?? environment["BROKER_CONFIG"] {
            file = try loadFile(path)
        }
        var configuration = BrokerConfiguration()
        func pick(_ flag: String?, _ variable: String, _ key: String) throws(ConfigurationError) -> String? {
            try pickString(flag, variable, from: file, key, environment: environment)
        }
        if let value = try pick(flags.api, "BROKER_API", "api") { configuration.apiEndpoint = value }
        if let value = try pick(flags.events, "BROKER_EVENTS", "events") { configuration.eventsEndpoint = value }
        if let value = try pick(flags.workers, "BROKER_WORKERS", "workers") { configuration.workersEndpoint = value }
        if let value = try pick(flags.db, "BROKER_DB", "db") { configuration.databasePath = value }
        if let value = try pick(flags.logLevel, "BROKER_LOG_LEVEL", "logLevel") { configuration.logLevel = value }
        if let value = try pick(flags.sync, "BROKER_SYNC", "sync") {
            guard let mode = SyncMode(rawValue: value) else {
                throw ConfigurationError("sync must be 'normal' or 'full', not '\(value)'")
            }
            configuration.syncMode = mode
        }
        if let value = try integer(file, "maxRequestBytes", 1024...(1 << 30)) { configuration.maxRequestBytes = value }
        if let value = try integer(file, "maxReplyBytes", 1024...(1 << 30)) { configuration.maxReplyBytes = value }
        if let value = try integer(file, "readerThreads", 1...64) { configuration.readerThreads = value }
        let tokenLimits = Int(Limits.tokenLimitRange.lowerBound)...Int(Limits.tokenLimitRange.upperBound)
        if let value = try integer(file, "tokenLimit", tokenLimits) {
            configuration.defaultTokenLimit = Int64(value)
        }
        if file["compaction"] != nil && file["compaction"]?.objectValue == nil {
            throw ConfigurationError("config 'compaction' must be an object")
        }
        configuration.compaction = try CompactionSettings.resolve(
            file["compaction"]?.objectValue ?? JSONObject(), environment: environment)
        if file["dispatch"] != nil && file["dispatch"]?.objectValue == nil {
            throw ConfigurationError("config 'dispatch' must be an object")
        }
        configuration.dispatch = try DispatchSettings.resolve(file["dispatch"]?.objectValue ?? JSONObject())
        configuration.security = try SecuritySettings.resolve(
            file: file, secretKeyFlag: flags.curveSecretKey, clientsFlag: flags.curveClients,
            insecureFlag: flags.insecure, environment: environment)
        for endpoint in [configuration.apiEndpoint, configuration.eventsEndpoint, configuration.workersEndpoint] {
            try validateEndpoint(endpoint)
        }
        return configuration
    }

    /// A string setting: the flag, else the environment variable (when not empty), else `object[key]`, else nil.
    /// `path` names the object in the error (`curve.` for `curve.secretKey`).
    static func pickString(
        _ flag: String?, _ variable: String, from object: JSONObject, _ key: String, path: String = "",
        environment: [String: String]
    ) throws(ConfigurationError) -> String? {
        if let flag { return flag }
        if let value = environment[variable], !value.isEmpty { return value }
        guard let value = object[key] else { return nil }
        guard let text = value.stringValue else { throw ConfigurationError("config '\(path)\(key)' must be a string") }
        return text
    }

    private static func integer(_ file: JSONObject, _ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError)
        -> Int?
    {
        guard let value = file[key] else { return nil }
        guard let number = value.intValue, range.contains(Int(number)) else {
            throw ConfigurationError("config '\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(number)
    }

    static func loadFile(_ path: String) throws(ConfigurationError) -> JSONObject {
        guard let bytes = ProcessIO.readFile(path) else {
            throw ConfigurationError("cannot read configuration file \(path): \(ProcessIO.lastErrorMessage)")
        }
        let document: JSON
        do { document = try JSONParser.parse(bytes) } catch {
            throw ConfigurationError("configuration file \(path) is not valid JSON: \(error)")
        }
        guard let object = document.objectValue else {
            throw ConfigurationError("configuration file \(path) must hold a JSON object")
        }
        for key in object.keys where !fileKeys.contains(key) {
            throw ConfigurationError(
                "configuration file \(path) has an unknown key '\(key)' "
                    + "(known: \(fileKeys.sorted().joined(separator: ", ")))"
            )
        }
        return object
    }

    static func validateEndpoint(_ endpoint: String) throws(ConfigurationError) {
        let schemes = ["tcp://", "ipc://", "inproc://"]
        guard schemes.contains(where: { endpoint.hasPrefix($0) }), endpoint.count > 6 else {
            throw ConfigurationError("endpoint '\(endpoint)' must start with tcp://, ipc:// or inproc://")
        }
    }
}
