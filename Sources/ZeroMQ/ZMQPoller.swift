import CZeroMQ

/// Waits on several sockets and plain file descriptors at once (zmq_poll).
///
/// Built on the stable API only (no zmq_poller_*). Use it on the thread that
/// owns the sockets it watches.
public struct ZMQPoller {
    private var items: [zmq_pollitem_t] = []

    public init() {}

    /// Watches `socket` for incoming messages; returns the item's index.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Watches a file descriptor (such as a `Wakeup`) for readability; returns the item's index.
    @discardableResult
    public mutating func add(fileDescriptor: Int32) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Waits up to `timeoutMs` (-1: forever) and returns the indexes that are readable.
    ///
    /// A signal (EINTR) returns an empty list instead of an error, so callers
    /// simply loop; ETERM is thrown.
    public mutating func poll(timeoutMs: Int) throws(ZMQError) -> [Int] {
        let count = items.count
        let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32(count), timeoutMs) }
        if rc < 0 {
            let error = ZMQError.last("zmq_poll")
            if error == .interrupted { return [] }
            throw error
        }
        if rc == 0 { return [] }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
