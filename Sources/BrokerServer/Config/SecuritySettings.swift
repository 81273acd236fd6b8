import BrokerProtocol

/// Where the broker's CURVE keys are, and whether it may serve other hosts without them.
public struct SecuritySettings: Sendable, Equatable {
    /// The broker's own `.key_secret` (`--curve-secret-key`, `BROKER_CURVE_SECRET_KEY`, config `curve.secretKey`).
    public var curveSecretKeyPath: String?
    /// The folder of authorized client `.key` files (`--curve-clients`, `BROKER_CURVE_CLIENTS`,
    /// config `curve.clientsDir`).
    public var curveClientsDirectory: String?
    /// Serve non-loopback endpoints without keys (`--insecure`, config `insecure`): off by default.
    public var insecure = false

    public init() {}

    /// Reads the `curve` object and `insecure` of a configuration file, under the flags and environment.
    static func resolve(
        file: JSONObject, secretKeyFlag: String?, clientsFlag: String?, insecureFlag: Bool,
        environment: [String: String]
    ) throws(ConfigurationError) -> SecuritySettings {
        var settings = SecuritySettings()
        var curve = JSONObject()
        if let value = file["curve"] {
            guard let object = value.objectValue else { throw ConfigurationError("config 'curve' must be an object") }
            for key in object.keys where !["secretKey", "clientsDir"].contains(key) {
                throw ConfigurationError("config 'curve' has an unknown key '\(key)' (known: clientsDir, secretKey)")
            }
            curve = object
        }
        func pick(_ flag: String?, _ variable: String, _ key: String) throws(ConfigurationError) -> String? {
            try BrokerConfiguration.pickString(flag, variable, from: curve, key, path: "curve.", environment: environment)
        }
        settings.curveSecretKeyPath = try pick(secretKeyFlag, "BROKER_CURVE_SECRET_KEY", "secretKey")
        settings.curveClientsDirectory = try pick(clientsFlag, "BROKER_CURVE_CLIENTS", "clientsDir")
        if let value = file["insecure"] {
            guard let flag = value.boolValue else { throw ConfigurationError("config 'insecure' must be true or false") }
            settings.insecure = flag
        }
        if insecureFlag { settings.insecure = true }
        return settings
    }
}
