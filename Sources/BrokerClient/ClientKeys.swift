import BrokerProtocol
import CurveCertificates
import ZeroMQ

/// How every client finds its CURVE keys: `--curve-key` / `BROKER_CURVE_KEY` (its own `.key_secret`) and
/// `--curve-server-key` / `BROKER_CURVE_SERVER_KEY` (the broker's public `.key`).
public enum ClientKeys {
    /// The client's keys, or nil when neither file is given (plain ZeroMQ, for a broker in protected mode).
    ///
    /// A flag wins over its variable. One file without the other is an error, as is a file that does not
    /// load; a secret file others can read is loaded, and `warn` is told.
    public static func load(
        keyFile: String?, serverKeyFile: String?, environment: [String: String] = ProcessIO.environment(),
        warn: (String) -> Void
    ) throws(CertificateError) -> CurveClientKeys? {
        let keyPath = keyFile ?? environment["BROKER_CURVE_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let serverPath = serverKeyFile ?? environment["BROKER_CURVE_SERVER_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyPath, serverPath) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw CertificateError(
                path: nil, "--curve-key needs --curve-server-key (or BROKER_CURVE_SERVER_KEY): the broker's .key file")
        case (nil, .some):
            throw CertificateError(
                path: nil, "--curve-server-key needs --curve-key (or BROKER_CURVE_KEY): this client's .key_secret file")
        case (.some(let keyPath), .some(let serverPath)):
            let certificate = try CurveCertificate.loadSecret(keyPath, warn: warn)
            let serverKey = try CurveCertificate.loadPublicKey(serverPath)
            guard let keys = certificate.keyPair else { throw CertificateError(path: keyPath, "holds no secret key") }
            return CurveClientKeys(keys: keys, serverKey: serverKey)
        }
    }
}
