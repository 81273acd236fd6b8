import BrokerProtocol
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

/// `import:begin`, `import:write`, `import:commit`, `import:abort`.
enum ImportMethods {
    /// A session file this small is read whole first, to see whether it is a packet.
    static let packetProbeBytes: Int64 = 16 << 20

    static func begin(_ params: Params, _ shared: BrokerShared) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["kind", "clear"])
        let name = try params.string("kind", maxBytes: 16)
        guard let kind = ImportKind(rawValue: name) else {
            throw RPCError.invalidParams("'kind' must be \"backup\", \"traces\" or \"session\"", field: "kind")
        }
        let clear = try params.optionalBool("clear") ?? false
        if clear && kind != .backup {
            throw RPCError.invalidParams("'clear' applies only to a backup", field: "clear")
        }
        let upload = try OpenImport(kind: kind, clear: clear, databasePath: shared.database.path)
        let id = shared.transfers.add(upload)
        return JSON.object(JSONObject([("importId", .string(id))])).serialized
    }

    /// Appends a piece, given in `data` as a JSON string or as a second frame of raw bytes.
    ///
    /// A data frame must hold whole UTF-8 characters, as a JSON string does: the client cuts its pieces
    /// at character boundaries, so the spool is valid text exactly when every piece is.
    static func write(_ call: TransferCall) throws(RPCError) -> [UInt8] {
        let (params, shared) = (call.params, call.shared)
        try params.requireOnly(["importId", "seq", "data"])
        let id = try params.identifier("importId")
        guard let seq = try params.optionalInt("seq", range: 0...Int64.max) else {
            throw RPCError.invalidParams("'seq' is required", field: "seq")
        }
        let data: [UInt8]
        if let frame = call.data {
            if params["data"] != nil {
                throw RPCError.invalidParams("the piece is in 'data' or in a data frame, not both", field: "data")
            }
            guard frame.withUnsafeBufferPointer({ UTF8Validation.isValid($0) }) else {
                throw RPCError.invalidParams(
                    "the data frame is not whole UTF-8 characters (cut pieces at character boundaries)", field: "data")
            }
            data = frame
        } else {
            data = Array(try params.string("data", maxBytes: shared.configuration.maxRequestBytes).utf8)
        }
        let bytes = try shared.transfers.upload(id).append(seq: seq, data)
        return JSON.object(JSONObject([("importId", .string(id)), ("seq", .int(seq)), ("bytes", .int(bytes))]))
            .serialized
    }

    static func abort(_ params: Params, _ shared: BrokerShared) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["importId"])
        let id = try params.identifier("importId")
        guard let upload = shared.transfers.removeImport(id) else {
            throw RPCError(.notFound, "import '\(id)' is not open", details: JSONObject([("id", .string(id))]))
        }
        upload.discard()
        return JSON.object(JSONObject([("importId", .string(id)), ("aborted", true)])).serialized
    }

    /// Validates the whole spool here, then hands it to the writer, which answers once it is committed.
    ///
    /// The import is closed whatever happens: a refused file is uploaded again, fixed.
    static func commit(_ call: TransferCall) throws(RPCError) -> [UInt8] {
        let (params, shared, envelope, requestId) = (call.params, call.shared, call.envelope, call.id)
        try params.requireOnly(["importId"])
        let id = try params.identifier("importId")
        guard let upload = shared.transfers.removeImport(id) else {
            throw RPCError(.notFound, "import '\(id)' is not open", details: JSONObject([("id", .string(id))]))
        }
        do throws(RPCError) {
            try upload.finish()
            let plan = try validate(upload, shared)
            let job = WriteJob(envelope: envelope, id: requestId, command: .importFile(plan)) { result in
                upload.discard()
                var result = result
                if case .success(let bytes) = result, case .object(var object)? = try? JSONParser.parse(bytes) {
                    object["importId"] = .string(id)
                    result = .success(JSON.object(object).serialized)
                }
                shared.outbox.post(Outgoing.from(result, envelope, id: requestId))
            }
            guard shared.writeQueue.push(job) else { throw RPCError(.unavailable, "the broker is shutting down") }
            return TransferMethods.answeredElsewhere
        } catch {
            upload.discard()
            throw error
        }
    }

    private static func validate(_ upload: OpenImport, _ shared: BrokerShared) throws(RPCError) -> ImportPlan {
        let packet = upload.kind == .session ? packetIn(upload.path) : nil
        let plan = ImportPlan(path: upload.path, kind: upload.kind, clear: upload.clear, packet: packet)
        try ImportValidation.check(plan, counter: shared.counter)
        return plan
    }

    /// The file's top-level object when it is a small file that is a packet.
    private static func packetIn(_ path: String) -> JSONObject? {
        var info = stat()
        guard stat(path, &info) == 0, Int64(info.st_size) <= packetProbeBytes else { return nil }
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        guard fread(&bytes, 1, bytes.count, file) == bytes.count,
            case .object(let object)? = try? JSONParser.parse(bytes), PortableFormat.isPacket(object)
        else { return nil }
        return object
    }
}
