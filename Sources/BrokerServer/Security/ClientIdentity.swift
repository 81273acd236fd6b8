import CurveCertificates
import ZeroMQ

/// An authorized client: a public key from the clients directory, with the name, role and services the
/// operator wrote in its certificate's metadata.
public struct ClientIdentity: Sendable, Equatable {
    public let publicKey: CurveKey
    /// The certificate's `name`, else its file name without `.key`.
    public let name: String
    public let role: AccessRole
    /// For a role that serves jobs: the services it may attach for (`services = "dev,qa"`); empty means none
    /// for an agent. An admin may serve any.
    public let services: Set<String>
    /// The file it came from, for messages.
    public let file: String

    /// Whether this key may attach to the workers endpoint as `service`.
    public func mayServe(_ service: String) -> Bool {
        switch role {
        case .admin: true
        case .agent: services.contains(service)
        case .controller, .reader: false
        }
    }

    /// How logs and `auth:denied` name the key: its name and the start of the key.
    public var label: String { "\(name) (\(publicKey.shortName))" }

    /// Reads an identity from a clients-directory certificate; throws when its role is missing or unknown.
    static func from(_ certificate: CurveCertificate, file: String, fallbackName: String) throws(CertificateError)
        -> ClientIdentity
    {
        guard let roleText = certificate[metadata: "role"] else {
            throw CertificateError(
                path: file, "no role in its metadata (add it with: brokerctl keys authorize FILE --role ROLE)")
        }
        guard let role = AccessRole(rawValue: roleText) else {
            let known = AccessRole.allCases.map(\.rawValue).joined(separator: ", ")
            throw CertificateError(path: file, "unknown role '\(roleText)' (known: \(known))")
        }
        // Service names hold no spaces: "dev, qa" and "dev,qa" are the same list.
        let services = Set(
            (certificate[metadata: "services"] ?? "").split(separator: ",").map { String($0.filter { $0 != " " }) }
                .filter { !$0.isEmpty })
        let name = certificate[metadata: "name"].flatMap { $0.isEmpty ? nil : $0 } ?? fallbackName
        return ClientIdentity(
            publicKey: certificate.publicKey, name: name, role: role, services: services, file: file)
    }
}
