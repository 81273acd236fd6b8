import CZeroMQ

/// A libzmq context: the owner of I/O threads and of every socket made from it.
///
/// `@unchecked Sendable` is safe because libzmq documents contexts as
/// thread-safe: sockets may be created from, and `shutdown()` called on,
/// any thread. The handle is terminated exactly once, in `deinit`, which
/// blocks until every socket of the context is closed (LINGER 0 keeps that quick).
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` background I/O threads.
    public init(ioThreads: Int32 = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        // Allow more sockets than the default 1023: a broker with many clients and tests open many.
        zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, 8192)
    }

    /// Makes every blocking call on this context's sockets return ETERM.
    ///
    /// This is how loops are stopped: from any thread, without signals.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// The libzmq library version, such as "4.3.4".
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
