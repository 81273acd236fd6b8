/// Builds JSON-RPC 2.0 reply frames.
public enum RPCResponse {
    /// `{"jsonrpc":"2.0","id":…,"result":…}` with a result already serialized.
    public static func success(id: JSON, resultBytes: [UInt8]) -> [UInt8] {
        var writer = JSONWriter(capacity: resultBytes.count + 48)
        writer.raw("{\"jsonrpc\":\"2.0\",\"id\":")
        writer.value(id)
        writer.raw(",\"result\":")
        writer.rawBytes(resultBytes)
        writer.raw("}")
        return writer.bytes
    }

    public static func success(id: JSON, result: JSON) -> [UInt8] {
        success(id: id, resultBytes: result.serialized)
    }

    /// `{"jsonrpc":"2.0","id":…,"error":{code,message,data:{kind,…}}}`.
    public static func failure(id: JSON, error: RPCError) -> [UInt8] {
        JSON.object(
            JSONObject([
                ("jsonrpc", "2.0"), ("id", id),
                (
                    "error",
                    .object(
                        JSONObject([
                            ("code", .int(error.kind.code)), ("message", .string(error.message)), ("data", error.data),
                        ]))
                ),
            ])
        ).serialized
    }
}

/// A reply as a client reads it.
public enum RPCReply: Sendable {
    case result(id: JSON, JSON)
    case error(id: JSON, RPCError)

    /// Parses a reply frame; a frame that is not a JSON-RPC reply is an error of kind `internal`.
    public static func parse(frame: [UInt8]) -> RPCReply {
        guard let document = try? JSONParser.parse(frame), let object = document.objectValue else {
            return .error(id: .null, RPCError(.internal, "the broker sent a reply that is not JSON"))
        }
        let id = object["id"] ?? .null
        if let result = object["result"] { return .result(id: id, result) }
        guard let error = object["error"]?.objectValue else {
            return .error(id: id, RPCError(.internal, "reply has neither result nor error"))
        }
        let data = error["data"]?.objectValue ?? JSONObject()
        let kind = data["kind"]?.stringValue.flatMap(ErrorKind.init(rawValue:)) ?? .internal
        var details = data
        details["kind"] = nil
        return .error(id: id, RPCError(kind, error["message"]?.stringValue ?? "unknown error", details: details))
    }

    public var id: JSON {
        switch self {
        case .result(let id, _), .error(let id, _): id
        }
    }
}
