/// Versions reported by `broker:ping`.
public enum BrokerVersion {
    /// The broker's release.
    public static let version = "0.1.0"
    /// The wire protocol's version (Protocols/AGENTBROKER-RPC.md); bumped on incompatible changes.
    public static let protocolVersion = 1
}
