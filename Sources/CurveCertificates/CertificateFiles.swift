import BrokerProtocol
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

extension CurveCertificate {
    /// Loads a `.key` or `.key_secret` file.
    public static func load(_ path: String) throws(CertificateError) -> CurveCertificate {
        guard let bytes = ProcessIO.readFile(path) else {
            throw CertificateError(path: path, "cannot read: \(ProcessIO.lastErrorMessage)")
        }
        guard bytes.count <= 64 * 1024 else { throw CertificateError(path: path, "too large for a certificate") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CertificateError(path: path, "not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Loads a secret certificate (`.key_secret`), for a process that speaks CURVE with it.
    ///
    /// A file that others can read is loaded, and `warn` is told: a secret key readable by others is one
    /// they may already have copied.
    public static func loadSecret(_ path: String, warn: (String) -> Void) throws(CertificateError) -> CurveCertificate {
        let certificate = try load(path)
        guard certificate.secretKey != nil else {
            throw CertificateError(
                path: path, "holds no secret key (give the .key_secret file, not the public .key)")
        }
        var status = stat()
        if stat(path, &status) == 0 && status.st_mode & 0o077 != 0 {
            warn(
                "\(path) is readable by other users (mode \(String(status.st_mode & 0o777, radix: 8))); "
                    + "run: chmod 600 \(path)")
        }
        return certificate
    }

    /// Loads a file that must hold a public key (a `.key`, or a `.key_secret`, whose public key is used).
    public static func loadPublicKey(_ path: String) throws(CertificateError) -> CurveKey {
        try load(path).publicKey
    }

    /// Writes `DIR/NAME.key` (0644) and `DIR/NAME.key_secret` (0600); refuses to overwrite either.
    @discardableResult
    public func save(directory: String, name: String) throws(CertificateError) -> (publicPath: String, secretPath: String)
    {
        let base = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        let stamp = Self.localTimestamp()
        try Self.write(render(includeSecret: false, generatedAt: stamp), to: base + ".key", mode: 0o644)
        try Self.write(render(includeSecret: true, generatedAt: stamp), to: base + ".key_secret", mode: 0o600)
        return (base + ".key", base + ".key_secret")
    }

    /// Writes the public form to `path` (0644), replacing a file already there; the text goes to a temporary
    /// file first and is renamed into place, so a reader never sees half a certificate.
    public func savePublic(to path: String) throws(CertificateError) {
        let temporary = path + ".tmp-\(getpid())"
        try Self.write(render(includeSecret: false, generatedAt: Self.localTimestamp()), to: temporary, mode: 0o644)
        guard rename(temporary, path) == 0 else {
            let reason = ProcessIO.lastErrorMessage
            unlink(temporary)
            throw CertificateError(path: path, "cannot write: \(reason)")
        }
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws(CertificateError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw CertificateError(path: path, "cannot create: \(ProcessIO.lastErrorMessage)")
        }
        fchmod(descriptor, mode)  // the umask must not loosen or tighten what was asked for
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(path)
            throw CertificateError(path: path, "cannot write: \(ProcessIO.lastErrorMessage)")
        }
    }

    /// "2026-12-08 03:04:05", as CZMQ stamps its files.
    static func localTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
