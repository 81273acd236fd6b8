import CZeroMQ

extension ZMQSocket {
    /// Makes this socket a CURVE server (RFC 26) with `keys`, before it binds.
    ///
    /// `domain` is the ZAP domain (RFC 27) the handler is told for each
    /// handshake, so one handler can tell the broker's endpoints apart.
    /// CURVE without a ZAP handler encrypts but authenticates nobody: bind the
    /// handler (`inproc://zeromq.zap.01` on the same context) first.
    public func makeCurveServer(keys: CurveKeyPair, domain: String) throws(ZMQError) {
        try setOption(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8))
        try setOption(ZMQ_CURVE_SERVER, Int32(1))
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: keys.secretKey.bytes)
    }

    /// Makes this socket a CURVE client of the server whose public key is `serverKey`, before it connects.
    public func makeCurveClient(keys: CurveKeyPair, serverKey: CurveKey) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, bytes: serverKey.bytes)
        try setOption(ZMQ_CURVE_PUBLICKEY, bytes: keys.publicKey.bytes)
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: keys.secretKey.bytes)
    }
}

/// What a client needs to reach a CURVE server: its own key pair and the server's public key.
public struct CurveClientKeys: Sendable, Hashable {
    public let keys: CurveKeyPair
    public let serverKey: CurveKey

    public init(keys: CurveKeyPair, serverKey: CurveKey) {
        self.keys = keys
        self.serverKey = serverKey
    }
}

extension ZMQSocket {
    /// Applies `curve` (when given) before the socket connects; plain sockets pass nil.
    public func secure(_ curve: CurveClientKeys?) throws(ZMQError) {
        guard let curve else { return }
        try makeCurveClient(keys: curve.keys, serverKey: curve.serverKey)
    }
}
