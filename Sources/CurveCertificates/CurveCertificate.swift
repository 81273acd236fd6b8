import BrokerProtocol
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A CurveZMQ certificate in ZeroMQ's ZPL file format, as CZMQ's zcert and pyzmq's `zmq.auth` write it.
///
/// `NAME.key` holds the public key; `NAME.key_secret` the public and secret keys.
/// Both writers' forms load: CZMQ puts the metadata in both files with quoted
/// values, pyzmq only in the secret file, unquoted. Files written here follow
/// CZMQ's form, which pyzmq's `load_certificate` reads too.
public struct CurveCertificate: Sendable, Equatable {
    public var publicKey: CurveKey
    /// Present only in a `.key_secret` file.
    public var secretKey: CurveKey?
    /// The `metadata` section, in file order (`name`, `role`, `services`, …).
    public var metadata: [(name: String, value: String)]

    public init(publicKey: CurveKey, secretKey: CurveKey? = nil, metadata: [(name: String, value: String)] = []) {
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.metadata = metadata
    }

    public static func == (lhs: CurveCertificate, rhs: CurveCertificate) -> Bool {
        lhs.publicKey == rhs.publicKey && lhs.secretKey == rhs.secretKey
            && lhs.metadata.map(\.name) == rhs.metadata.map(\.name)
            && lhs.metadata.map(\.value) == rhs.metadata.map(\.value)
    }

    /// A metadata value by name (the last one if a name repeats).
    public subscript(metadata name: String) -> String? { metadata.last { $0.name == name }?.value }

    /// The key pair, when this is a secret certificate.
    public var keyPair: CurveKeyPair? { secretKey.map { CurveKeyPair(publicKey: publicKey, secretKey: $0) } }

    /// A new certificate with a fresh key pair.
    public static func generate(metadata: [(name: String, value: String)] = []) throws(CertificateError)
        -> CurveCertificate
    {
        do {
            let pair = try CurveKeyPair.generate()
            return CurveCertificate(publicKey: pair.publicKey, secretKey: pair.secretKey, metadata: metadata)
        } catch {
            throw CertificateError(path: nil, "cannot make a key pair: \(error)")
        }
    }

    /// Reads a certificate from ZPL text; `path` only names the file in errors.
    public static func parse(_ text: String, path: String? = nil) throws(CertificateError) -> CurveCertificate {
        let document: ZPLDocument
        do { document = try ZPLDocument.parse(text) } catch { throw CertificateError(path: path, "\(error)") }
        guard let publicText = document["curve/public-key"] else {
            throw CertificateError(path: path, "no curve/public-key (is this a ZeroMQ certificate?)")
        }
        guard let publicKey = CurveKey(z85: publicText) else {
            throw CertificateError(path: path, "curve/public-key is not 40 characters of Z85")
        }
        var secretKey: CurveKey?
        if let secretText = document["curve/secret-key"] {
            guard let key = CurveKey(z85: secretText) else {
                throw CertificateError(path: path, "curve/secret-key is not 40 characters of Z85")
            }
            let derived: CurveKey
            do { derived = try CurveKeyPair.publicKey(for: key) } catch {
                throw CertificateError(path: path, "cannot check the secret key: \(error)")
            }
            guard derived == publicKey else {
                throw CertificateError(path: path, "curve/secret-key does not belong to curve/public-key")
            }
            secretKey = key
        }
        return CurveCertificate(
            publicKey: publicKey, secretKey: secretKey, metadata: document.children(of: "metadata"))
    }

    /// The certificate as ZPL text: the public form, or with `includeSecret` the secret form.
    public func render(includeSecret: Bool, generatedAt: String) -> String {
        var lines = ["#   ****  Generated on \(generatedAt) by AgentBroker  ****"]
        if includeSecret && secretKey != nil {
            lines += [
                "#   ZeroMQ CURVE **Secret** Certificate",
                "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
            ]
        } else {
            lines += [
                "#   ZeroMQ CURVE Public Certificate",
                "#   Exchange securely, or use a secure mechanism to verify the contents",
                "#   of this file after exchange.",
            ]
        }
        lines += ["", "metadata"]
        for (name, value) in metadata { lines.append("    \(name) = \"\(value)\"") }
        lines += ["curve", "    public-key = \"\(publicKey.z85)\""]
        if includeSecret, let secretKey { lines.append("    secret-key = \"\(secretKey.z85)\"") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Checks a metadata name and value can be written and read back (ZPL has no escapes).
    public static func validateMetadata(name: String, value: String) throws(CertificateError) {
        guard ZPLDocument.isValidName(name) else { throw CertificateError(path: nil, "metadata name '\(name)' is not a ZPL name") }
        guard !value.unicodeScalars.contains(where: { $0 == "\"" || $0.properties.generalCategory == .control }) else {
            throw CertificateError(path: nil, "metadata '\(name)' may not hold a quote or a control character")
        }
    }
}

/// A certificate that cannot be read or written, with the file and the reason.
public struct CertificateError: Error, Sendable, CustomStringConvertible {
    public let path: String?
    public let problem: String

    public init(path: String?, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.map { "\($0): \(problem)" } ?? problem }
}
