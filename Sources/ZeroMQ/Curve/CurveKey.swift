import CZeroMQ

/// A CurveZMQ key: 32 bytes, written as 40 characters of Z85 (ZeroMQ RFC 32) in certificates.
public struct CurveKey: Sendable, Hashable, CustomStringConvertible {
    /// The 32 raw bytes, as libzmq's CURVE socket options take them.
    public let bytes: [UInt8]

    /// A key from its 32 raw bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// A key from its 40-character Z85 text; nil when the text is not Z85 of 32 bytes.
    public init?(z85 text: String) {
        let characters = Array(text.utf8)
        guard characters.count == 40, characters.allSatisfy(Self.isZ85) else { return nil }
        var decoded = [UInt8](repeating: 0, count: 32)
        let ok = (characters.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { source in
            decoded.withUnsafeMutableBufferPointer { zmq_z85_decode($0.baseAddress, source.baseAddress) != nil }
        }
        guard ok else { return nil }
        bytes = decoded
    }

    /// The key as 40 characters of Z85, the form certificates and logs use.
    public var z85: String {
        var text = [CChar](repeating: 0, count: 41)
        _ = bytes.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, 32) }
        return String(decoding: text.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first characters of the Z85 text: enough to tell keys apart in a log, too few to matter if leaked.
    public var shortName: String { String(z85.prefix(8)) }

    /// Prints nothing of the key: a secret key must not end up in a log by accident (`shortName` is for public keys).
    public var description: String { "CurveKey(…)" }

    /// Z85's alphabet (RFC 32): digits, letters and `.-:+=^!/*?&<>()[]{}@%$#`.
    static func isZ85(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        default: Array(".-:+=^!/*?&<>()[]{}@%$#".utf8).contains(byte)
        }
    }
}

/// A CurveZMQ key pair: what a server or client needs to speak CURVE.
public struct CurveKeyPair: Sendable, Hashable, CustomStringConvertible {
    public var description: String { "CurveKeyPair(public \(publicKey.shortName)…, secret not shown)" }

    public let publicKey: CurveKey
    public let secretKey: CurveKey

    public init(publicKey: CurveKey, secretKey: CurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A new random key pair from libzmq (libsodium underneath).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        guard let publicKey = CurveKey(z85: Self.text(publicText)), let secretKey = CurveKey(z85: Self.text(secretText))
        else { throw ZMQError(code: EINVAL, operation: "zmq_curve_keypair") }
        return CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
    }

    /// The public key that belongs to `secretKey`, so a certificate's two keys can be checked against each other.
    public static func publicKey(for secretKey: CurveKey) throws(ZMQError) -> CurveKey {
        var publicText = [CChar](repeating: 0, count: 41)
        let secretText = Array(secretKey.z85.utf8).map { CChar(bitPattern: $0) } + [0]
        guard zmq_curve_public(&publicText, secretText) == 0, let key = CurveKey(z85: Self.text(publicText)) else {
            throw ZMQError.last("zmq_curve_public")
        }
        return key
    }

    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
