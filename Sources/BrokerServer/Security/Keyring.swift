import CurveCertificates
import Synchronization
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The authorized client keys, read from the clients directory and replaced as a whole on SIGHUP.
///
/// Every thread that authorizes (the ZAP handler, the api loop, the dispatcher)
/// looks keys up here on each handshake, request or worker message, so a key
/// removed from the directory is refused from its next request on.
final class Keyring: Sendable {
    let directory: String
    /// By the key's Z85 text, which is also the user id every request carries: a lookup per request, no decoding.
    private let identities: Mutex<[String: ClientIdentity]>

    init(directory: String, identities: [CurveKey: ClientIdentity]) {
        self.directory = directory
        self.identities = Mutex(Self.byText(identities))
    }

    /// The identity of `key`, or nil when it is not (or no longer) authorized.
    func identity(_ key: CurveKey) -> ClientIdentity? { identities.withLock { $0[key.z85] } }

    /// The identity behind a ZAP user id (the key's Z85 text), or nil.
    func identity(userID: String?) -> ClientIdentity? {
        guard let userID else { return nil }
        return identities.withLock { $0[userID] }
    }

    private static func byText(_ identities: [CurveKey: ClientIdentity]) -> [String: ClientIdentity] {
        Dictionary(uniqueKeysWithValues: identities.map { ($0.key.z85, $0.value) })
    }

    var count: Int { identities.withLock { $0.count } }

    /// How a refusal names a key that may not be (or no longer be) in the keyring: the start of its Z85 text.
    static func shortName(userID: String?) -> String {
        userID.flatMap { CurveKey(z85: $0)?.shortName } ?? "(no key)"
    }

    /// Swaps in a new set and says what changed.
    func replace(with newIdentities: [CurveKey: ClientIdentity]) -> KeyringChange {
        let new = Self.byText(newIdentities)
        return identities.withLock { current in
            let removed = current.keys.filter { new[$0] == nil }.compactMap { current[$0] }
            let added = new.keys.filter { current[$0] == nil }.compactMap { new[$0] }
            let changed = new.keys.filter { current[$0] != nil && current[$0] != new[$0] }.compactMap { new[$0] }
            current = new
            return KeyringChange(removed: removed, added: added, changed: changed)
        }
    }

    /// Reads every `*.key` file in `directory`. A file that does not load, or has no known role, is skipped
    /// and reported in `problems`; the others load. Throws only when the directory itself cannot be read.
    static func scan(_ directory: String) throws(CertificateError) -> (
        identities: [CurveKey: ClientIdentity], problems: [String]
    ) {
        guard let handle = opendir(directory) else {
            throw CertificateError(path: directory, "cannot read the clients directory: \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        var problems: [String] = []
        // Whoever can write here can make themselves a client: the folder and its files are the trust root.
        if let warning = Self.looseModeWarning(directory, what: "the clients directory") { problems.append(warning) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".key") && !name.hasPrefix(".") { names.append(name) }
        }
        var identities: [CurveKey: ClientIdentity] = [:]
        for name in names.sorted() {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if let warning = Self.looseModeWarning(path, what: "client file") { problems.append(warning) }
            do {
                let certificate = try CurveCertificate.load(path)
                let identity = try ClientIdentity.from(
                    certificate, file: path, fallbackName: String(name.dropLast(".key".count)))
                if let earlier = identities[identity.publicKey] {
                    problems.append("\(path): the same key as \(earlier.file); skipped")
                    continue
                }
                identities[identity.publicKey] = identity
            } catch {
                problems.append("\(error); skipped")
            }
        }
        return (identities, problems)
    }
}

extension Keyring {
    /// A warning when `path` is writable by group or others.
    static func looseModeWarning(_ path: String, what: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o022 != 0 else { return nil }
        return "\(what) \(path) is writable by other users (mode \(String(status.st_mode & 0o777, radix: 8))): "
            + "whoever can write there can authorize a key; run chmod go-w \(path)"
    }
}

/// What a reload changed.
struct KeyringChange: Sendable {
    var removed: [ClientIdentity]
    var added: [ClientIdentity]
    /// Keys still there whose name, role or services changed.
    var changed: [ClientIdentity]

    /// Whether a connection that was allowed before may not be any more.
    var narrowsAccess: Bool { !removed.isEmpty || !changed.isEmpty }
}
