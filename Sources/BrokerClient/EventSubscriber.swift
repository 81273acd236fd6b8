import BrokerProtocol
import ZeroMQ

/// One event as a subscriber receives it.
public struct ReceivedEvent: Sendable {
    public let topic: String
    public let body: JSON
    public var seq: Int64? { body["seq"]?.intValue }
}

/// A SUB socket on the broker's events endpoint, filtered by topic prefixes.
///
/// PUB drops what a slow subscriber cannot take; compare `seq` with the last
/// one seen and call `events:since` to fill a gap. Not `Sendable`.
public final class EventSubscriber {
    private let socket: ZMQSocket

    /// Connects and subscribes to each prefix ("" or an empty list: everything), with CURVE keys when given.
    public init(endpoint: String, context: ZMQContext, prefixes: [String] = [""], curve: CurveClientKeys? = nil)
        throws(ZMQError)
    {
        socket = try ZMQSocket(context: context, type: .sub)
        try socket.secure(curve)
        for prefix in prefixes.isEmpty ? [""] : prefixes { try socket.subscribe(prefix) }
        try socket.connect(endpoint)
    }

    /// The next event, or nil when none arrives within `timeoutMs` (-1 waits forever).
    public func next(timeoutMs: Int) throws(ZMQError) -> ReceivedEvent? {
        try socket.setReceiveTimeout(milliseconds: Int32(timeoutMs))
        while true {
            guard let frames = try socket.receive() else { return nil }
            guard frames.count == 2, let body = try? JSONParser.parse(frames[1]) else { continue }
            return ReceivedEvent(topic: String(decoding: frames[0], as: UTF8.self), body: body)
        }
    }
}
