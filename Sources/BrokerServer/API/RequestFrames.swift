import BrokerProtocol
import ZeroMQ

/// Splits a message read from the ROUTER into its envelope and its one body frame.
///
/// A REQ client's message arrives as [identity, "", body]; a DEALER's as
/// [identity, body] or [identity, "", body]. The envelope is everything up to
/// and including the first empty frame (or just the identity), and is sent
/// back unchanged in front of the reply.
enum RequestFrames {
    static func split(_ frames: [ZMQFrame]) -> (envelope: Envelope, body: [ZMQFrame]) {
        guard frames.count > 1 else { return (frames, []) }
        if let delimiter = frames[1...].firstIndex(where: \.isEmpty) {
            return (Array(frames[...delimiter]), Array(frames[(delimiter + 1)...]))
        }
        return ([frames[0]], Array(frames[1...]))
    }
}
