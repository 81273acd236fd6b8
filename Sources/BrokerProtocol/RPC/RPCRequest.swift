/// A parsed JSON-RPC 2.0 request.
public struct RPCRequest: Sendable {
    /// The client's id (a string or an integer), echoed in the reply.
    public var id: JSON
    public var method: String
    public var params: Params

    public init(id: JSON, method: String, params: JSONObject = JSONObject()) {
        self.id = id
        self.method = method
        self.params = Params(params)
    }

    /// Parses and validates one request frame.
    ///
    /// Errors carry the id when it could be read, so the client can match the
    /// reply. Every request must have an id: this transport answers every
    /// frame (a REQ socket waits for a reply), so notifications are refused.
    public static func parse(frame: [UInt8]) -> Result<RPCRequest, RejectedRequest> {
        let document: JSON
        do {
            document = try JSONParser.parse(frame)
        } catch {
            return .failure(RejectedRequest(id: .null, error: RPCError(.parseError, "invalid JSON: \(error)")))
        }
        guard case .object(let object) = document else {
            let what = document.arrayValue != nil ? "batch requests are not supported" : "a request must be an object"
            return .failure(RejectedRequest(id: .null, error: RPCError(.invalidRequest, what)))
        }
        let id = object["id"] ?? .null
        switch id {
        case .string, .int: break
        case .null where object["id"] == nil:
            return .failure(
                RejectedRequest(
                    id: .null, error: RPCError(.invalidRequest, "'id' is required: every request gets a reply")))
        default:
            return .failure(
                RejectedRequest(id: .null, error: RPCError(.invalidRequest, "'id' must be a string or an integer")))
        }
        guard object["jsonrpc"]?.stringValue == "2.0" else {
            return .failure(RejectedRequest(id: id, error: RPCError(.invalidRequest, "'jsonrpc' must be \"2.0\"")))
        }
        guard let method = object["method"]?.stringValue, !method.isEmpty else {
            return .failure(
                RejectedRequest(id: id, error: RPCError(.invalidRequest, "'method' must be a non-empty string")))
        }
        for key in object.keys where !["jsonrpc", "id", "method", "params"].contains(key) {
            return .failure(
                RejectedRequest(id: id, error: RPCError(.invalidRequest, "unknown member '\(key)' in the request")))
        }
        switch object["params"] {
        case nil, .null?: return .success(RPCRequest(id: id, method: method))
        case .object(let params)?: return .success(RPCRequest(id: id, method: method, params: params))
        default:
            return .failure(
                RejectedRequest(
                    id: id, error: RPCError(.invalidRequest, "'params' must be an object (by-name parameters)")))
        }
    }

    /// The request as a frame, for clients.
    public var frame: [UInt8] {
        JSON.object(
            JSONObject([
                ("jsonrpc", "2.0"), ("id", id), ("method", .string(method)), ("params", .object(params.object)),
            ])
        ).serialized
    }
}

/// A frame that is not an acceptable request: the error to answer, and the id to answer it with.
public struct RejectedRequest: Error, Sendable {
    public let id: JSON
    public let error: RPCError
}
