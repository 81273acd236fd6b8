import CZeroMQ

/// An error reported by libzmq, carrying the `errno` value it set.
///
/// Compare with the static members to catch the cases callers handle:
/// `catch let error as ZMQError where error == .wouldBlock`.
public struct ZMQError: Error, Equatable, Hashable, CustomStringConvertible, Sendable {
    /// The `errno` value libzmq reported.
    public let code: Int32
    /// What the failing call was doing, for the message.
    public let operation: String

    public init(code: Int32, operation: String = "") {
        self.code = code
        self.operation = operation
    }

    /// Reads `zmq_errno()` for the call that just failed.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(code: zmq_errno(), operation: operation)
    }

    public var description: String {
        let text = String(cString: zmq_strerror(code))
        return operation.isEmpty ? text : "\(operation): \(text)"
    }

    /// Equality is by code only, so `error == .wouldBlock` matches any operation.
    public static func == (lhs: ZMQError, rhs: ZMQError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// EAGAIN: a non-blocking call had nothing to do, or a time-out passed.
    public static let wouldBlock = ZMQError(code: EAGAIN)
    /// EINTR: a signal interrupted a blocking call.
    public static let interrupted = ZMQError(code: EINTR)
    /// ETERM: the context was shut down; the socket must be closed.
    public static let terminated = ZMQError(code: czmq_ETERM())
    /// EHOSTUNREACH: a ROUTER with ROUTER_MANDATORY has no peer of that identity.
    public static let hostUnreachable = ZMQError(code: czmq_EHOSTUNREACH())
    /// EADDRINUSE: the endpoint is bound by someone else.
    public static let addressInUse = ZMQError(code: EADDRINUSE)
    /// EFSM: a REQ/REP socket was used out of its send/receive order.
    public static let wrongState = ZMQError(code: czmq_EFSM())
}

/// Runs a libzmq call that returns -1 on failure, retrying on EINTR.
///
/// The single place where EINTR is absorbed: a signal landing on this thread
/// must not turn into a spurious error. Shutdown is signalled with
/// `zmq_ctx_shutdown` (ETERM), never by a signal.
@inline(__always)
func retryingOnInterrupt(_ operation: @autoclosure () -> String, _ call: () -> Int32) throws(ZMQError) -> Int32 {
    while true {
        let rc = call()
        if rc >= 0 { return rc }
        let error = ZMQError.last(operation())
        if error != .interrupted { throw error }
    }
}
