/// The kinds of error every reply can carry in `error.data.kind` (DESIGN.md, rule 7).
public enum ErrorKind: String, Sendable, CaseIterable {
    case parseError = "parse_error"
    case invalidRequest = "invalid_request"
    case methodNotFound = "method_not_found"
    case invalidParams = "invalid_params"
    case notFound = "not_found"
    case conflict
    case tooLarge = "too_large"
    case unauthorized
    case unavailable
    case `internal`

    /// The JSON-RPC `error.code`: the standard codes, then application codes from -32001.
    public var code: Int64 {
        switch self {
        case .parseError: -32700
        case .invalidRequest: -32600
        case .methodNotFound: -32601
        case .invalidParams: -32602
        case .internal: -32603
        case .notFound: -32001
        case .conflict: -32002
        case .tooLarge: -32003
        case .unauthorized: -32004
        case .unavailable: -32005
        }
    }
}

/// An error answered to a JSON-RPC request.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: ErrorKind
    public var message: String
    /// Extra members of `error.data` besides `kind` (such as `field` or `limit`).
    public var details: JSONObject

    public init(_ kind: ErrorKind, _ message: String, details: JSONObject = JSONObject()) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// `error.data` as sent: `{kind, ...details}`.
    public var data: JSON {
        var object = JSONObject([("kind", .string(kind.rawValue))])
        for (key, value) in details { object[key] = value }
        return .object(object)
    }

    public static func invalidParams(_ message: String, field: String? = nil) -> RPCError {
        RPCError(.invalidParams, message, details: field.map { JSONObject([("field", .string($0))]) } ?? JSONObject())
    }

    public static func notFound(_ what: String, _ id: String) -> RPCError {
        RPCError(.notFound, "\(what) '\(id)' does not exist", details: JSONObject([("id", .string(id))]))
    }
}
