import BrokerProtocol
import Logging
import SessionCore
import Threading
import ZeroMQ

/// The ZAP handler (ZeroMQ RFC 27): answers every CURVE handshake on the broker's endpoints.
///
/// libzmq asks it, over `inproc://zeromq.zap.01` in the broker's context, whether
/// a client key may connect. It admits keys in the keyring (on the workers
/// endpoint only keys whose role may serve jobs), refuses everything else, and
/// gives each admitted connection the key's Z85 text as its user id, which
/// every request carries from then on. It runs on its own thread because it
/// owns its socket (DESIGN.md rule 1).
enum ZAPHandler {
    static let endpoint = "inproc://zeromq.zap.01"

    /// Binds the handler's socket on this thread, reports how that went, then answers until the broker stops.
    static func start(
        context: ZMQContext, security: BrokerSecurity, shared: BrokerShared,
        started: Latch<Result<String, BrokerStartError>>, logger: Logger
    ) {
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context: context, type: .rep)
            try socket.bind(endpoint)
        } catch {
            return started.set(.failure(BrokerStartError(message: "cannot start the ZAP handler: \(error)")))
        }
        started.set(.success(endpoint))
        run(socket: socket, security: security, shared: shared, logger: logger)
    }

    /// Answers requests until the broker stops.
    static func run(socket: ZMQSocket, security: BrokerSecurity, shared: BrokerShared, logger: Logger) {
        var poller = ZMQPoller()
        poller.add(socket)
        // Not `stopRequested`: the endpoints stay bound while the broker drains, and libzmq admits every CURVE
        // handshake when no handler answers. The handler stops only after every other thread has ended.
        while shared.zapStop.current == nil {
            do {
                guard try poller.poll(timeoutMs: 100).contains(0) else { continue }
                guard let request = try socket.receive(dontWait: true) else { continue }
                try socket.send(answer(request, security: security, shared: shared))
            } catch let error where error == .terminated {
                break
            } catch {
                logger.error("auth: ZAP handler: \(error)")
            }
        }
        socket.close()
    }

    /// The reply to one ZAP request: version, request id, status code, status text, user id, metadata.
    static func answer(_ request: [ZMQFrame], security: BrokerSecurity, shared: BrokerShared) -> [ZMQFrame] {
        guard request.count >= 6, request[0] == Array("1.0".utf8) else {
            return reply(request.count > 1 ? request[1] : [], "500", "malformed ZAP request")
        }
        let requestID = request[1]
        let domain = String(decoding: request[2], as: UTF8.self)
        let mechanism = String(decoding: request[5], as: UTF8.self)
        guard mechanism == "CURVE", request.count == 7, let key = CurveKey(bytes: request[6]) else {
            shared.deny(.init(endpoint: domain, key: "(\(mechanism.lowercased()) peer)", reason: "only CURVE is accepted"))
            return reply(requestID, "400", "only CURVE is accepted")
        }
        guard let identity = security.keyring.identity(key) else {
            shared.deny(.init(endpoint: domain, key: key.shortName, reason: "unknown key"))
            return reply(requestID, "400", "unknown key")
        }
        if domain == "workers" && !identity.role.mayServe {
            let reason = "role '\(identity.role.rawValue)' may not attach as a worker"
            shared.deny(.init(endpoint: domain, key: identity.label, reason: reason))
            return reply(requestID, "400", reason)
        }
        return reply(requestID, "200", "OK", userID: key.z85)
    }

    private static func reply(_ requestID: ZMQFrame, _ code: String, _ text: String, userID: String = "") -> [ZMQFrame]
    {
        [Array("1.0".utf8), requestID, Array(code.utf8), Array(text.utf8), Array(userID.utf8), []]
    }
}
