import BrokerProtocol
import SessionCore
import Threading
import ZeroMQ

/// The routing frames of a request (identity, and the empty delimiter a REQ client adds), sent back with the reply.
public typealias Envelope = [ZMQFrame]

/// A reply on its way back to the API thread, which alone may send on the ROUTER.
struct Outgoing: Sendable {
    var envelope: Envelope
    var body: [UInt8]
    /// The error kind when the reply is an error, for `broker:stats`.
    var errorKind: ErrorKind?
    /// Whether this answers a write (the API thread counts them to order reads after writes).
    var isWrite = false
    /// Raw bytes sent as a frame after the JSON one (`export:read` with `dataFrame`).
    var data: [UInt8]? = nil

    static func result(_ envelope: Envelope, id: JSON, _ result: [UInt8]) -> Outgoing {
        Outgoing(envelope: envelope, body: RPCResponse.success(id: id, resultBytes: result), errorKind: nil)
    }

    static func error(_ envelope: Envelope, id: JSON, _ error: RPCError) -> Outgoing {
        Outgoing(envelope: envelope, body: RPCResponse.failure(id: id, error: error), errorKind: error.kind)
    }

    static func from(_ result: Result<[UInt8], RPCError>, _ envelope: Envelope, id: JSON) -> Outgoing {
        switch result {
        case .success(let bytes): .result(envelope, id: id, bytes)
        case .failure(let error): .error(envelope, id: id, error)
        }
    }
}

/// A validated write waiting for the writer thread.
struct WriteJob: Sendable {
    var envelope: Envelope
    var id: JSON
    var command: WriteCommand
    /// For the broker's own writes (the compactor's): called with the result once the batch is committed
    /// or rolled back, instead of a reply to a client.
    var onCommit: (@Sendable (Result<[UInt8], RPCError>) -> Void)? = nil
}

/// A read waiting for a reader thread.
struct ReadJob: Sendable {
    var envelope: Envelope
    var id: JSON
    var run: @Sendable (SessionReader) throws(RPCError) -> [UInt8]
}

/// Replies posted by the writer and readers, and the eventfd that wakes the API thread to send them.
final class Outbox: Sendable {
    private let queue = WorkQueue<Outgoing>()
    let wakeup = Wakeup()

    func post(_ outgoing: Outgoing) {
        queue.push(outgoing)
        wakeup.signal()
    }

    func post(_ batch: [Outgoing]) {
        queue.push(contentsOf: batch)
        wakeup.signal()
    }

    /// Everything posted so far, without waiting.
    func drain() -> [Outgoing] { queue.takeAll() }
}
