/// The worker side of ZeroMQ RFC 7/MDP: frames and commands (Protocols/AGENTBROKER-WORKERS.md).
///
/// Shared by the broker's dispatcher and the worker runtime, so both ends agree byte for byte.
public enum Majordomo {
    /// Frame 1 of every worker message: the protocol and its version.
    public static let workerProtocol: [UInt8] = Array("MDPW01".utf8)

    public enum Command: UInt8, Sendable {
        case ready = 0x01
        case request = 0x02
        case reply = 0x03
        case heartbeat = 0x04
        case disconnect = 0x05
    }

    /// The frames of one command after the routing identity: empty delimiter, protocol, command, then `body`.
    public static func frames(_ command: Command, _ body: [[UInt8]] = []) -> [[UInt8]] {
        [[], workerProtocol, [command.rawValue]] + body
    }

    /// A worker message split into its command and the frames after it, or nil when it is not 7/MDP.
    public static func parse(_ frames: ArraySlice<[UInt8]>) -> (Command, [[UInt8]])? {
        guard frames.count >= 3 else { return nil }
        let start = frames.startIndex
        guard frames[start].isEmpty, frames[start + 1] == workerProtocol, frames[start + 2].count == 1,
            let command = Command(rawValue: frames[start + 2][0])
        else { return nil }
        return (command, Array(frames[(start + 3)...]))
    }
}
