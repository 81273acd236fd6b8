import BrokerClient
import BrokerProtocol
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The client side of moving data through the broker: pulls an export piece by piece, pushes an import.
///
/// brokerctl never opens the database (only the broker does): every byte goes over the api endpoint,
/// so it works against a remote broker and the files belong to the user who runs brokerctl.
struct Transfer {
    let client: RPCClient
    let quiet: Bool
    /// Bytes per piece each way.
    static let pieceBytes = 1 << 20

    init(_ global: GlobalOptions, quiet: Bool) throws {
        guard global.timeout > 0 else { throw UsageError("--timeout must be positive") }
        // One socket for the whole transfer. A piece is not sent twice: a repeated export:read would skip one.
        client = try global.client(
            context: try ZMQContext(), timeoutMs: Int(max(global.timeout, 60) * 1000), attempts: 1)
        self.quiet = quiet || global.json
    }

    /// Who made a document: `brokerctl (user@host)`.
    static var exportedBy: String {
        var name = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        let user = ProcessIO.environment("USER") ?? ProcessIO.environment("LOGNAME") ?? "unknown"
        return "brokerctl (\(user)@\(host))"
    }

    /// Opens an export and hands each piece to `write`; returns the `export:open` and last `export:read` results.
    func download(_ params: JSONObject, unit: String, write: ([UInt8]) throws -> Void) throws -> (
        opened: JSONObject, last: JSONObject
    ) {
        var params = params
        params["exportedBy"] = .string(Self.exportedBy)
        guard let opened = try client.call("export:open", params).objectValue,
            let id = opened["exportId"]?.stringValue
        else { throw UsageError("the broker answered export:open without an exportId") }
        var progress = ProgressBar(total: opened["totalRows"]?.intValue ?? 0, unit: unit, quiet: quiet)
        defer { progress.finish() }
        do {
            // Pieces come as raw frames (neither side escapes them into a JSON string), read ahead on a thread.
            let prefetch = try ExportPrefetch(
                endpoint: client.endpoint, curve: client.curve, timeoutMs: client.timeoutMs, exportId: id,
                pieceBytes: Self.pieceBytes)
            defer { prefetch.stop() }
            while true {
                let (result, data) = try prefetch.next()
                try write(data)
                progress.update(result["rows"]?.intValue ?? 0, bytes: result["bytes"]?.intValue ?? 0)
                if result["done"]?.boolValue == true { return (opened, result) }
            }
        } catch {
            _ = try? client.call("export:close", JSONObject([("exportId", .string(id))]))
            throw error
        }
    }

    /// Uploads a file's text (`next` gives raw bytes until empty) and commits it; returns `import:commit`'s result.
    ///
    /// The progress bar follows `input`'s bytes read (for a gzip file, the compressed bytes).
    func upload(kind: String, clear: Bool, input: InputFile, next: () throws -> [UInt8]) throws -> JSONObject {
        var begin = JSONObject([("kind", .string(kind))])
        if clear { begin["clear"] = true }
        guard let id = try client.call("import:begin", begin)["importId"]?.stringValue else {
            throw UsageError("the broker answered import:begin without an importId")
        }
        var progress = ProgressBar(total: input.size, unit: "bytes", quiet: quiet)
        do {
            var pieces = UTF8Pieces()
            var seq: Int64 = 0
            while true {
                let bytes = try next()
                // A block of gzip can inflate to more than a request may carry: pieceBytes at most go
                // through UTF8Pieces at a time (which cuts them on whole characters).
                var start = 0
                repeat {
                    let end = min(bytes.count, start + Self.pieceBytes)
                    let text = try pieces.next(Array(bytes[start..<end]), final: bytes.isEmpty)
                    if !text.isEmpty {
                        _ = try client.call(
                            "import:write", JSONObject([("importId", .string(id)), ("seq", .int(seq))]), data: text)
                        seq += 1
                    }
                    start = end
                } while start < bytes.count
                progress.update(input.consumed, bytes: input.consumed)
                if bytes.isEmpty { break }
            }
            progress.finish()
            if !quiet && isatty(STDERR_FILENO) == 1 { writeError("checking and writing...\n") }
            // Validation and the write of a large file take a while; not retried (the import closes at commit).
            client.timeoutMs = max(client.timeoutMs, 3_600_000)
            guard let result = try client.call("import:commit", JSONObject([("importId", .string(id))])).objectValue
            else { throw UsageError("the broker answered import:commit without a result") }
            return result
        } catch {
            // Whatever stopped it (the file, the broker's answer), the spool is not left behind.
            progress.finish()
            _ = try? client.call("import:abort", JSONObject([("importId", .string(id))]))
            throw error
        }
    }

    /// `1 session, 5 messages, 6 events` from a stats object (sections with 0 rows left out).
    static func describe(_ stats: JSON?) -> String {
        let parts = (stats?.objectValue ?? JSONObject()).compactMap { pair -> String? in
            guard let count = pair.value.intValue, count > 0 else { return nil }
            // Section names are plurals: "1 session", "2 sessions".
            return "\(count) \(count == 1 && pair.key.hasSuffix("s") ? String(pair.key.dropLast()) : pair.key)"
        }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }
}
