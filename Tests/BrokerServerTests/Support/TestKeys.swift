import BrokerClient
import BrokerServer
import CurveCertificates
import Foundation
import ZeroMQ

/// Certificates for a secured test broker, in a fresh folder: the broker's pair, and clients authorized
/// with a role (and services) in `clients/`, as `brokerctl keys authorize` writes them.
final class TestKeys: Sendable {
    let directory: String
    let broker: CurveCertificate

    init() throws {
        directory = TestBroker.makeDirectory()
        try FileManager.default.createDirectory(atPath: directory + "/clients", withIntermediateDirectories: true)
        broker = try CurveCertificate.generate(metadata: [("name", "broker")])
        try broker.save(directory: directory, name: "broker")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var clientsDirectory: String { directory + "/clients" }
    var brokerSecretFile: String { directory + "/broker.key_secret" }
    var brokerPublicFile: String { directory + "/broker.key" }

    /// Makes `name`'s pair (NAME.key_secret beside the broker's) and authorizes it with `role`.
    @discardableResult
    func add(_ name: String, role: String, services: [String] = []) throws -> CurveClientKeys {
        let certificate = try CurveCertificate.generate(metadata: [("name", name)])
        try certificate.save(directory: directory, name: name)
        try authorize(certificate.publicKey, name: name, role: role, services: services)
        return try keys(name)
    }

    /// Writes clients/NAME.key for `key` with `role` in its metadata (none when nil).
    func authorize(_ key: CurveKey, name: String, role: String?, services: [String] = []) throws {
        var metadata: [(name: String, value: String)] = [("name", name)]
        if let role { metadata.append(("role", role)) }
        if !services.isEmpty { metadata.append(("services", services.joined(separator: ","))) }
        try CurveCertificate(publicKey: key, metadata: metadata).savePublic(to: clientsDirectory + "/\(name).key")
    }

    /// Removes NAME's authorization (the broker notices at its next reload).
    func revoke(_ name: String) throws {
        try FileManager.default.removeItem(atPath: clientsDirectory + "/\(name).key")
    }

    /// The client keys of NAME, as a client loads them from its files.
    func keys(_ name: String) throws -> CurveClientKeys {
        guard
            let keys = try ClientKeys.load(
                keyFile: secretFile(name), serverKeyFile: brokerPublicFile, environment: [:], warn: { _ in })
        else { throw TestFailure("no keys for \(name)") }
        return keys
    }

    func secretFile(_ name: String) -> String { directory + "/\(name).key_secret" }

    /// A key pair the broker has never seen.
    func unknown() throws -> CurveClientKeys {
        CurveClientKeys(keys: try CurveKeyPair.generate(), serverKey: broker.publicKey)
    }

    /// The settings a broker needs to use these keys.
    func configure(_ configuration: inout BrokerConfiguration) {
        configuration.security.curveSecretKeyPath = brokerSecretFile
        configuration.security.curveClientsDirectory = clientsDirectory
    }
}

extension TestBroker {
    /// A client with `keys` (nil: plain) and one attempt.
    func client(_ keys: CurveClientKeys?, timeoutMs: Int = 5_000) -> RPCClient {
        RPCClient(endpoint: endpoints.api, context: context, timeoutMs: timeoutMs, attempts: 1, curve: keys)
    }

    /// A SUB socket on the events endpoint, with `keys` (nil: plain).
    func subscriber(_ keys: CurveClientKeys?, prefixes: [String] = [""]) throws -> EventSubscriber {
        try EventSubscriber(endpoint: endpoints.events, context: context, prefixes: prefixes, curve: keys)
    }
}
