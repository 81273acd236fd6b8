import BrokerProtocol
import ZeroMQ

/// Why a call did not produce a result.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// The broker answered with a JSON-RPC error.
    case rpc(RPCError)
    /// No reply after every attempt: the broker is down, unreachable, or dropped the request; with CURVE,
    /// also a broker that does not know the client's key, or a wrong server key (`secured`).
    case unreachable(endpoint: String, attempts: Int, timeoutMs: Int, secured: Bool = false)
    /// The socket could not be made or connected.
    case transport(ZMQError)

    public var description: String {
        switch self {
        case .rpc(let error): error.message
        case .unreachable(let endpoint, let attempts, let timeoutMs, let secured):
            secured
                ? "no answer: the broker may not know this key, or the server key is wrong "
                    + "(\(endpoint), \(attempts) attempts of \(timeoutMs) ms)"
                : "no reply from the broker at \(endpoint) after \(attempts) attempts of \(timeoutMs) ms "
                    + "(if it requires CURVE keys, give --curve-key and --curve-server-key)"
        case .transport(let error): "transport error: \(error)"
        }
    }
}

/// A JSON-RPC client for the broker's api endpoint, with a time-out and retries.
///
/// It uses a DEALER socket shaped like REQ (an empty delimiter frame) so that
/// a lost reply never wedges it: on time-out the socket is closed, a fresh
/// one connects, and the same request (same id) is sent again. Mutating
/// calls should carry a client-made id (`messageId`, `requestId`) so a retry
/// returns the first result. Not `Sendable`: one thread owns its socket.
public final class RPCClient {
    public let endpoint: String
    public var timeoutMs: Int
    public var attempts: Int
    /// CURVE keys (RFC 26) for a broker that requires them; nil speaks plain ZeroMQ.
    public let curve: CurveClientKeys?
    private let context: ZMQContext
    private var socket: ZMQSocket?
    private var nextId: Int64 = 1

    public init(
        endpoint: String, context: ZMQContext, timeoutMs: Int = 5_000, attempts: Int = 3, curve: CurveClientKeys? = nil
    ) {
        self.endpoint = endpoint
        self.context = context
        self.curve = curve
        self.timeoutMs = timeoutMs
        self.attempts = max(1, attempts)
    }

    /// Calls `method` and returns its result, or throws `ClientError`.
    public func call(_ method: String, _ params: JSONObject = JSONObject()) throws(ClientError) -> JSON {
        try call(method, params, data: nil).result
    }

    /// Calls `method` with an optional data frame after the request (`import:write`); returns the result and
    /// the reply's data frame, if it has one (`export:read` with `dataFrame`).
    public func call(_ method: String, _ params: JSONObject, data: [UInt8]?) throws(ClientError) -> (
        result: JSON, data: [UInt8]?
    ) {
        let id = JSON.int(nextId)
        nextId += 1
        let frame = RPCRequest(id: id, method: method, params: params).frame
        let (reply, replyData) = try exchange([[], frame] + (data.map { [$0] } ?? []), id: id)
        switch reply {
        case .result(_, let result): return (result, replyData)
        case .error(_, let error): throw .rpc(error)
        }
    }

    /// Sends a raw frame list (for tests of malformed input) and returns the raw reply frames, or nil on time-out.
    public func sendRaw(_ frames: [ZMQFrame], timeoutMs: Int? = nil) throws(ClientError) -> [ZMQFrame]? {
        let socket = try connected()
        do {
            try socket.send(frames)
            try socket.setReceiveTimeout(milliseconds: Int32(timeoutMs ?? self.timeoutMs))
            return try socket.receive()
        } catch {
            throw .transport(error)
        }
    }

    private func exchange(_ frames: [ZMQFrame], id: JSON) throws(ClientError) -> (RPCReply, [UInt8]?) {
        for _ in 0..<attempts {
            let socket = try connected()
            do {
                try socket.send(frames)
                let deadline = monotonicMillis() + Int64(timeoutMs)
                while true {
                    let remaining = deadline - monotonicMillis()
                    if remaining <= 0 { break }
                    try socket.setReceiveTimeout(milliseconds: Int32(remaining))
                    guard let reply = try socket.receive() else { break }
                    // ["", body] or, with a data frame, ["", body, data].
                    let start = reply.first?.isEmpty == true ? 1 : 0
                    guard reply.count > start else { continue }
                    let parsed = RPCReply.parse(frame: reply[start])
                    let data = reply.count > start + 1 ? reply[start + 1] : nil
                    if parsed.id == id || parsed.id == .null { return (parsed, data) }
                    // A late reply to an earlier attempt of another call: skip it.
                }
            } catch {
                throw .transport(error)
            }
            // Time-out: start over on a fresh socket so a late reply cannot be mistaken for the next one.
            self.socket = nil
        }
        throw .unreachable(endpoint: endpoint, attempts: attempts, timeoutMs: timeoutMs, secured: curve != nil)
    }

    private func connected() throws(ClientError) -> ZMQSocket {
        if let socket { return socket }
        do {
            let socket = try ZMQSocket(context: context, type: .dealer)
            try socket.secure(curve)
            try socket.connect(endpoint)
            self.socket = socket
            return socket
        } catch {
            throw .transport(error)
        }
    }
}

func monotonicMillis() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

#if canImport(Glibc)
    import Glibc
#endif
