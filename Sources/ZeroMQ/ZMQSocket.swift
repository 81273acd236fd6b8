import CZeroMQ

/// One frame of a ZeroMQ message.
public typealias ZMQFrame = [UInt8]

/// A libzmq socket, owned by the thread that created it.
///
/// libzmq sockets are not thread-safe, so this type is deliberately not
/// `Sendable`: create it on the thread that will use it, and let it die there.
/// The handle is closed exactly once, by `close()` or `deinit`. LINGER is 0
/// from the start so closing never waits for unsent messages and
/// `zmq_ctx_term` never hangs on this socket.
public final class ZMQSocket {
    /// The raw handle, for `ZMQPoller`; valid until `close()`.
    public private(set) var handle: UnsafeMutableRawPointer?
    /// Keeps the context alive while the socket is open (term waits for sockets).
    private let context: ZMQContext
    /// A heap-allocated message reused by every receive: libzmq keeps pointers
    /// into a zmq_msg_t, so it must not move, and Swift may move stack values.
    private let message: UnsafeMutablePointer<zmq_msg_t>

    /// Creates a socket of `type` on `context`, with LINGER 0.
    public init(context: ZMQContext, type: ZMQSocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else { throw ZMQError.last("zmq_socket") }
        self.handle = handle
        self.context = context
        message = .allocate(capacity: 1)
        zmq_msg_init(message)
        try setOption(ZMQ_LINGER, Int32(0))
    }

    deinit {
        close()
        zmq_msg_close(message)
        message.deallocate()
    }

    /// Closes the socket now; later calls on it throw ENOTSOCK.
    public func close() {
        if let handle {
            zmq_close(handle)
            self.handle = nil
        }
    }

    private func live(_ operation: String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(code: ENOTSOCK, operation: operation) }
        return handle
    }

    // MARK: Endpoints

    /// Binds to `endpoint` (tcp://, ipc://, inproc://); returns the endpoint actually bound,
    /// which names the port the system chose for `tcp://host:*`.
    @discardableResult
    public func bind(_ endpoint: String) throws(ZMQError) -> String {
        let socket = try live("bind")
        _ = try retryingOnInterrupt("bind \(endpoint)") { zmq_bind(socket, endpoint) }
        return (try? lastEndpoint()) ?? endpoint
    }

    /// Connects to `endpoint`; libzmq connects in the background and reconnects by itself.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let socket = try live("connect")
        _ = try retryingOnInterrupt("connect \(endpoint)") { zmq_connect(socket, endpoint) }
    }

    /// Removes a connection made with `connect`.
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let socket = try live("disconnect")
        _ = try retryingOnInterrupt("disconnect \(endpoint)") { zmq_disconnect(socket, endpoint) }
    }

    /// The endpoint of the last bind (ZMQ_LAST_ENDPOINT).
    public func lastEndpoint() throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        let socket = try live("getsockopt")
        _ = try retryingOnInterrupt("getsockopt ZMQ_LAST_ENDPOINT") {
            zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, &buffer, &size)
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Sending

    /// Sends `frames` as one multipart message.
    ///
    /// With `dontWait`, a full queue throws `.wouldBlock` before anything is
    /// sent (libzmq queues multipart messages atomically).
    public func send(_ frames: [ZMQFrame], dontWait: Bool = false) throws(ZMQError) {
        let socket = try live("send")
        let base: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        for (index, frame) in frames.enumerated() {
            let flags = index == frames.count - 1 ? base : base | ZMQ_SNDMORE
            _ = try retryingOnInterrupt("send") {
                frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
            }
        }
    }

    /// Sends one frame of UTF-8 text, optionally followed by more frames.
    public func send(_ text: String, more: Bool = false, dontWait: Bool = false) throws(ZMQError) {
        let socket = try live("send")
        var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        if more { flags |= ZMQ_SNDMORE }
        var text = text
        _ = try retryingOnInterrupt("send") {
            text.withUTF8 { zmq_send(socket, $0.baseAddress, $0.count, flags) }
        }
    }

    // MARK: Receiving

    /// Receives one whole multipart message and, with `readUserID`, the ZAP user id of the connection it came on.
    ///
    /// The user id is what the ZAP handler answered for the peer's handshake
    /// (RFC 27), read with `zmq_msg_gets("User-Id")`; nil on a socket without
    /// authentication, and not looked up at all without `readUserID`, so a
    /// socket without security pays nothing. Returns nil when nothing is there, as `receive` does.
    public func receiveWithUserID(dontWait: Bool = false, readUserID: Bool = true) throws(ZMQError) -> (
        frames: [ZMQFrame], userID: String?
    )? {
        guard let frames = try receive(dontWait: dontWait) else { return nil }
        guard readUserID else { return (frames, nil) }
        // The last frame came from the peer's connection (a ROUTER makes up the first), so it carries the metadata.
        guard let value = zmq_msg_gets(message, "User-Id") else { return (frames, nil) }
        return (frames, String(cString: value))
    }

    /// Receives one whole multipart message.
    ///
    /// Returns nil when nothing is there: with `dontWait`, or when ZMQ_RCVTIMEO passes.
    /// Throws `.terminated` once the context is shut down.
    public func receive(dontWait: Bool = false) throws(ZMQError) -> [ZMQFrame]? {
        let socket = try live("receive")
        var frames: [ZMQFrame] = []
        var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        while true {
            do {
                _ = try retryingOnInterrupt("receive") { zmq_msg_recv(message, socket, flags) }
            } catch {
                // The first frame of a message may be absent; later frames arrive atomically with it.
                if error == .wouldBlock && frames.isEmpty { return nil }
                throw error
            }
            let size = zmq_msg_size(message)
            let data = zmq_msg_data(message)
            frames.append(size == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: data, count: size)))
            if zmq_msg_more(message) == 0 { return frames }
            flags = 0  // the rest of a multipart message is already here
        }
    }
}
