import BrokerProtocol

/// Why an import file was refused, and where: the first problem found, so the user can fix the file.
public struct ImportProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Byte offset in the file (0-based), line and column (1-based), and the JSON path (`messages[41].content`).
    public var byte: Int64
    public var line: Int64
    public var column: Int64
    public var path: String

    public init(_ message: String, byte: Int64 = 0, line: Int64 = 1, column: Int64 = 1, path: String = "") {
        self.message = message
        self.byte = byte
        self.line = line
        self.column = column
        self.path = path
    }

    public var description: String {
        "\(message) (at \(path.isEmpty ? "" : "\(path), ")line \(line), column \(column), byte \(byte))"
    }

    /// The JSON-RPC error: `invalid_params` with the location in `data`.
    public var rpcError: RPCError {
        RPCError(
            .invalidParams, "the file was refused, nothing was imported: \(description)",
            details: JSONObject([
                ("problem", .string(message)),
                (
                    "location",
                    .object(
                        JSONObject([
                            ("byte", .int(byte)), ("line", .int(line)), ("column", .int(column)),
                            ("path", .string(path)),
                        ]))
                ),
            ]))
    }
}
