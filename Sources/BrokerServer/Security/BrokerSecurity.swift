import BrokerProtocol
import CurveCertificates
import Logging
import SessionCore
import Synchronization
import ZeroMQ

/// A broker's CURVE security: its own key pair, the authorized client keys and the refusal reporter.
///
/// Present only when the broker was given `--curve-secret-key`; then every
/// endpoint is a CURVE server, the ZAP handler admits only keyring members,
/// and every request and worker message is authorized by the key that sent it.
final class BrokerSecurity: Sendable {
    let serverKeys: CurveKeyPair
    let keyring: Keyring
    let denials: DenialReporter
    /// Bumped when a reload takes access away: the writer then rebinds the events socket, so subscribers
    /// handshake again and a removed key stops receiving events.
    let publisherGeneration = Atomic<Int>(0)

    init(serverKeys: CurveKeyPair, keyring: Keyring, denials: DenialReporter) {
        self.serverKeys = serverKeys
        self.keyring = keyring
        self.denials = denials
    }

    /// Loads the broker's secret key and its clients directory, or nil when security is not configured.
    ///
    /// Both must be given together. A secret key file that others can read loads with a warning; a clients
    /// directory that cannot be read stops the start; a file in it that does not load is skipped with a warning.
    static func load(_ settings: SecuritySettings, logger: Logger) throws(BrokerStartError) -> BrokerSecurity? {
        guard let secretPath = settings.curveSecretKeyPath else {
            if settings.curveClientsDirectory != nil {
                throw BrokerStartError(
                    message: "a clients directory (--curve-clients, BROKER_CURVE_CLIENTS or curve.clientsDir) needs the "
                        + "broker's own .key_secret (--curve-secret-key, BROKER_CURVE_SECRET_KEY or curve.secretKey)")
            }
            return nil
        }
        guard let clientsDirectory = settings.curveClientsDirectory else {
            throw BrokerStartError(
                message: "a CURVE secret key (--curve-secret-key, BROKER_CURVE_SECRET_KEY or curve.secretKey) needs "
                    + "--curve-clients DIR (BROKER_CURVE_CLIENTS or curve.clientsDir): the folder of authorized client .key files")
        }
        let keys: CurveKeyPair
        do {
            let certificate = try CurveCertificate.loadSecret(secretPath) { logger.warning("\($0)") }
            guard let pair = certificate.keyPair else { throw CertificateError(path: secretPath, "no secret key") }
            keys = pair
        } catch {
            throw BrokerStartError(message: "cannot load the broker's secret key: \(error)")
        }
        let scanned: (identities: [CurveKey: ClientIdentity], problems: [String])
        do { scanned = try Keyring.scan(clientsDirectory) } catch {
            throw BrokerStartError(message: "\(error)")
        }
        for problem in scanned.problems { logger.warning("auth: \(problem)") }
        if scanned.identities.isEmpty { logger.warning("auth: no authorized keys in \(clientsDirectory) yet") }
        logger.info(
            "auth: CURVE on every endpoint; \(scanned.identities.count) authorized key(s) from \(clientsDirectory)")
        return BrokerSecurity(
            serverKeys: keys, keyring: Keyring(directory: clientsDirectory, identities: scanned.identities),
            denials: DenialReporter(logger: logger))
    }

    /// Reads the clients directory again. A directory that can no longer be read keeps the keys in force
    /// (and says so), rather than locking every client out over a typo.
    func reload(logger: Logger) -> KeyringChange? {
        let scanned: (identities: [CurveKey: ClientIdentity], problems: [String])
        do { scanned = try Keyring.scan(keyring.directory) } catch {
            logger.error("auth: reload failed, keeping the \(keyring.count) key(s) in force: \(error)")
            return nil
        }
        for problem in scanned.problems { logger.warning("auth: \(problem)") }
        let change = keyring.replace(with: scanned.identities)
        if change.narrowsAccess { publisherGeneration.add(1, ordering: .releasing) }
        let figures =
            "\(scanned.identities.count) key(s), \(change.added.count) added, \(change.removed.count) removed, "
            + "\(change.changed.count) changed, \(scanned.problems.count) skipped"
        logger.notice("auth: reloaded \(keyring.directory): \(figures)")
        return change
    }
}
