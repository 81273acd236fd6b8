import CZeroMQ

extension ZMQSocket {
    /// Sets an integer socket option (most of libzmq's options are `int`).
    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        let socket = handle
        _ = try retryingOnInterrupt("setsockopt \(option)") {
            zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size)
        }
    }

    /// Sets a 64-bit socket option (ZMQ_MAXMSGSIZE is an int64).
    public func setOption(_ option: Int32, _ value: Int64) throws(ZMQError) {
        var value = value
        let socket = handle
        _ = try retryingOnInterrupt("setsockopt \(option)") {
            zmq_setsockopt(socket, option, &value, MemoryLayout<Int64>.size)
        }
    }

    /// Sets a binary socket option (ZMQ_SUBSCRIBE, ZMQ_ROUTING_ID, CURVE keys).
    public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let socket = handle
        _ = try retryingOnInterrupt("setsockopt \(option)") {
            bytes.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }
        }
    }

    /// Reads an integer socket option.
    public func intOption(_ option: Int32) throws(ZMQError) -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        let socket = handle
        _ = try retryingOnInterrupt("getsockopt \(option)") { zmq_getsockopt(socket, option, &value, &size) }
        return value
    }

    /// How long a blocking receive waits before returning nil; -1 waits forever.
    public func setReceiveTimeout(milliseconds: Int32) throws(ZMQError) {
        try setOption(ZMQ_RCVTIMEO, milliseconds)
    }

    /// How long a blocking send waits before throwing `.wouldBlock`; -1 waits forever.
    public func setSendTimeout(milliseconds: Int32) throws(ZMQError) {
        try setOption(ZMQ_SNDTIMEO, milliseconds)
    }

    /// The largest frame a peer may send before libzmq drops its connection.
    public func setMaxMessageSize(_ bytes: Int64) throws(ZMQError) {
        try setOption(ZMQ_MAXMSGSIZE, bytes)
    }

    /// Queue limits, in messages, for each peer.
    public func setHighWaterMarks(send: Int32, receive: Int32) throws(ZMQError) {
        try setOption(ZMQ_SNDHWM, send)
        try setOption(ZMQ_RCVHWM, receive)
    }

    /// Makes a ROUTER report EHOSTUNREACH for unknown peers instead of dropping silently.
    public func setRouterMandatory(_ on: Bool) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_MANDATORY, Int32(on ? 1 : 0))
    }

    /// Subscribes a SUB socket to topics starting with `prefix` ("" for all).
    public func subscribe(_ prefix: String) throws(ZMQError) {
        try setOption(ZMQ_SUBSCRIBE, bytes: Array(prefix.utf8))
    }

    /// Sets the identity a DEALER or REQ presents to a ROUTER.
    public func setRoutingID(_ id: [UInt8]) throws(ZMQError) {
        try setOption(ZMQ_ROUTING_ID, bytes: id)
    }
}
