import BrokerProtocol
import SQLite
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

/// `export:*`, `session:export` and `import:*`: the broker side of moving data in and out.
///
/// They run on reader threads (file and snapshot work never blocks the API
/// thread). Exports read from a snapshot of their own; imports spool to a file
/// and reach the database only through the writer, in one transaction.
enum TransferMethods {
    /// The reply of a method whose answer another thread sends (`import:commit`: the writer, after committing).
    static let answeredElsewhere: [UInt8] = []
    /// The largest document `session:export` returns in one reply.
    static let maxOneShotBytes = 64 << 20

    // MARK: export

    static func open(_ params: Params, _ shared: BrokerShared) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["kind", "sessionId", "format", "since", "exportedBy"])
        let (request, format) = try exportRequest(params)
        let cursor = try makeCursor(request, params, shared)
        let stats = cursor.stats
        let totalRows = cursor.totalRows
        let id = try shared.transfers.add(cursor)
        return JSON.object(
            JSONObject([
                ("exportId", .string(id)), ("kind", .string(try params.string("kind"))), ("format", .string(format)),
                ("formatVersion", .int(formatVersion(request))),
                ("stats", .object(JSONObject(stats.map { (key: $0.section.rawValue, value: JSON.int($0.count)) }))),
                ("totalRows", .int(totalRows)),
            ])
        ).serialized
    }

    /// The next piece: in `data` as a JSON string, or with `dataFrame` as a second frame of raw bytes
    /// (no escaping on either side: what brokerctl uses).
    static func read(_ call: TransferCall) throws(RPCError) -> [UInt8] {
        let (params, shared) = (call.params, call.shared)
        try params.requireOnly(["exportId", "maxBytes", "dataFrame"])
        let id = try params.identifier("exportId")
        let maxBytes = Int(try params.optionalInt("maxBytes", range: 4096...(8 << 20)) ?? (1 << 20))
        let inFrame = try params.optionalBool("dataFrame") ?? false
        let open = try shared.transfers.export(id)
        open.touch()
        let (reply, data) = try open.cursor.withLock { cursor throws(RPCError) -> ([UInt8], [UInt8]) in
            guard let cursor else {
                throw RPCError(.notFound, "export '\(id)' is not open", details: JSONObject([("id", .string(id))]))
            }
            let data = try cursor.read(maxBytes: maxBytes)
            var writer = JSONWriter(capacity: inFrame ? 256 : data.count + data.count / 8 + 256)
            writer.raw("{\"exportId\":")
            writer.string(id)
            if inFrame {
                writer.raw(",\"dataBytes\":")
                writer.int(Int64(data.count))
            } else {
                writer.raw(",\"data\":")
                data.withUnsafeBufferPointer { writer.string(utf8: $0) }
            }
            writer.raw(",\"rows\":")
            writer.int(cursor.rows)
            writer.raw(",\"bytes\":")
            writer.int(cursor.bytes)
            writer.raw(",\"done\":")
            writer.bool(cursor.done)
            writer.raw(",\"unrepresentable\":")
            writer.int(cursor.unrepresentable)
            writer.raw("}")
            return (writer.bytes, inFrame ? data : [])
        }
        if shared.transfers.isDone(open) { shared.transfers.removeExport(id)?.close() }
        guard inFrame else { return reply }
        var outgoing = Outgoing.result(call.envelope, id: call.id, reply)
        outgoing.data = data
        shared.outbox.post(outgoing)
        return answeredElsewhere
    }

    static func close(_ params: Params, _ shared: BrokerShared) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["exportId"])
        let id = try params.identifier("exportId")
        guard let open = shared.transfers.removeExport(id) else {
            throw RPCError(.notFound, "export '\(id)' is not open", details: JSONObject([("id", .string(id))]))
        }
        open.close()
        return JSON.object(JSONObject([("exportId", .string(id)), ("closed", true)])).serialized
    }

    /// `session:export`: the whole document in one reply, for agents and tools that want it in one call.
    static func sessionExport(_ params: Params, _ shared: BrokerShared) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId", "format", "exportedBy"])
        let id = try params.identifier("sessionId")
        let format = try sessionFormat(params)
        let request = ExportRequest.session(id: id, format: format)
        let cursor = try makeCursor(request, params, shared)
        defer { cursor.close() }
        var document: [UInt8] = []
        while !cursor.done {
            document += try cursor.read(maxBytes: 1 << 20)
            guard document.count <= maxOneShotBytes else {
                throw RPCError(
                    .tooLarge,
                    "the document is over \(maxOneShotBytes) bytes; stream it with export:open and export:read")
            }
        }
        var writer = JSONWriter(capacity: document.count + document.count / 8 + 256)
        writer.raw("{\"sessionId\":")
        writer.string(id)
        writer.raw(",\"format\":")
        writer.string(format.rawValue)
        writer.raw(",\"formatVersion\":")
        writer.int(formatVersion(request))
        writer.raw(",\"document\":")
        document.withUnsafeBufferPointer { writer.string(utf8: $0) }
        writer.raw("}")
        return writer.bytes
    }

    private static func makeCursor(_ request: ExportRequest, _ params: Params, _ shared: BrokerShared)
        throws(RPCError) -> ExportCursor
    {
        let exportedBy = try params.optionalString("exportedBy", maxBytes: 256) ?? ""
        let connection: Connection
        do { connection = try shared.database.openReader() } catch {
            throw RPCError(.unavailable, "cannot open a snapshot of the database: \(error)")
        }
        return try ExportCursor(
            connection: connection, request: request, exportedBy: exportedBy, counter: shared.counter)
    }

    private static func exportRequest(_ params: Params) throws(RPCError) -> (ExportRequest, String) {
        let kind = try params.string("kind", maxBytes: 16)
        switch kind {
        case "backup":
            for field in ["sessionId", "since"] where params[field] != nil {
                throw RPCError.invalidParams("'\(field)' does not apply to a backup", field: field)
            }
            if let format = try params.optionalString("format", maxBytes: 16), format != "json" {
                throw RPCError.invalidParams("a backup is a JSON document: 'format' must be \"json\"", field: "format")
            }
            return (.backup, "json")
        case "traces":
            if params["format"] != nil {
                throw RPCError.invalidParams("a trace bundle is JSONL: 'format' does not apply", field: "format")
            }
            var filter = ExportFilter(sessionId: try params.optionalIdentifier("sessionId"))
            if let since = try params.optionalString("since", maxBytes: 64) {
                guard let millis = Timestamp.parseISO8601(since) else {
                    throw RPCError.invalidParams(
                        "'since' must be an ISO 8601 time such as 2026-11-23T15:28:42Z", field: "since")
                }
                filter.since = millis
            }
            return (.traces(filter), "jsonl")
        case "session":
            if params["since"] != nil {
                throw RPCError.invalidParams("'since' applies only to a trace bundle", field: "since")
            }
            let format = try sessionFormat(params)
            return (.session(id: try params.identifier("sessionId"), format: format), format.rawValue)
        default:
            throw RPCError.invalidParams("'kind' must be \"backup\", \"traces\" or \"session\"", field: "kind")
        }
    }

    private static func sessionFormat(_ params: Params) throws(RPCError) -> SessionExportFormat {
        let name = try params.optionalString("format", maxBytes: 16) ?? "json"
        guard let format = SessionExportFormat(rawValue: name) else {
            throw RPCError.invalidParams("'format' must be \"json\", \"markdown\" or \"packet\"", field: "format")
        }
        return format
    }

    private static func formatVersion(_ request: ExportRequest) -> Int64 {
        switch request {
        case .backup, .session(_, .json): PortableFormat.currentVersion
        case .traces: PortableFormat.tracesVersion
        case .session(_, .packet): PortableFormat.packetVersion
        case .session(_, .markdown): 1
        }
    }
}

extension TransferRegistry {
    /// Whether the export has written its last byte (then it is closed at once, releasing its snapshot).
    func isDone(_ open: OpenExport) -> Bool { open.cursor.withLock { $0?.done ?? true } }
}
