import SessionCore

/// The topics of the security layer.
extension Topic {
    /// A handshake, request or worker attach was refused.
    public static let authDenied = "auth:denied"
    /// The clients directory was read again (SIGHUP).
    public static let authReloaded = "auth:reloaded"
}
