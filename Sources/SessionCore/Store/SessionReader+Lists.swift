import BrokerProtocol
import SQLite

extension SessionReader {
    /// `session:getMessages`: one page in seq order, streamed from SQLite into the reply.
    public func getMessages(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId", "afterSeq", "limit", "includeArchived"])
        let id = try params.identifier("sessionId")
        let afterSeq = try params.optionalInt("afterSeq", range: 0...Int64.max) ?? 0
        let limit = try params.optionalInt("limit", range: 1...Self.maxMessagePage) ?? Self.defaultMessagePage
        let includeArchived = try params.optionalBool("includeArchived") ?? false
        return try snapshot { () throws(RPCError) in
            let record = try session(id)
            let fromSeq = max(afterSeq + 1, includeArchived ? 1 : record.firstActiveSeq)
            do throws(SQLiteError) {
                return try writeMessages(record, fromSeq: fromSeq, limit: limit)
            } catch {
                throw Self.internalError(error)
            }
        }
    }

    public static let defaultMessagePage: Int64 = 1_000
    public static let maxMessagePage: Int64 = 50_000

    private func writeMessages(_ record: SessionRecord, fromSeq: Int64, limit: Int64) throws(SQLiteError) -> [UInt8] {
        let select = try db.statement(
            """
            SELECT seq, message_id, role, content, name, tool_call_id, metadata, tokens, created_at FROM messages
            WHERE session = ? AND seq >= ? ORDER BY seq LIMIT ?
            """)
        select.bind(1, record.rowID)
        select.bind(2, fromSeq)
        select.bind(3, limit + 1)  // one more tells whether another page follows
        // Sized for the page up front: growing a multi-megabyte buffer by doubling copies it each time.
        var writer = JSONWriter(capacity: Int(min(limit, max(0, record.nextSeq - fromSeq))) * 512 + 256)
        var times = TimestampCache()
        writer.raw("{\"sessionId\":")
        writer.string(record.id)
        writer.raw(",\"messages\":[")
        var count: Int64 = 0
        var lastSeq = fromSeq - 1
        var hasMore = false
        while try select.step() {
            // A page ends at `limit` messages, or once it holds `maxPageBytes` (it always has at least one
            // message), so a page of large messages cannot exhaust memory; `hasMore` says to continue.
            if count == limit || (count > 0 && writer.bytes.count >= maxPageBytes) {
                hasMore = true
                break
            }
            if count > 0 { writer.comma() }
            count += 1
            lastSeq = select.int(0)
            writer.raw("{\"seq\":")
            writer.int(lastSeq)
            writer.raw(",\"messageId\":")
            select.withBytes(1) { writer.string(utf8: $0) }
            writer.raw(",\"role\":")
            select.withBytes(2) { writer.string(utf8: $0) }
            writer.raw(",\"content\":")
            select.withBytes(3) { writer.string(utf8: $0) }
            if !select.isNull(4) { writer.raw(",\"name\":"); select.withBytes(4) { writer.string(utf8: $0) } }
            if !select.isNull(5) { writer.raw(",\"toolCallId\":"); select.withBytes(5) { writer.string(utf8: $0) } }
            if !select.isNull(6) { writer.raw(",\"metadata\":"); select.withBytes(6) { writer.rawBytes($0) } }
            writer.raw(",\"tokens\":")
            writer.int(select.int(7))
            writer.raw(",\"archived\":")
            writer.bool(lastSeq < record.firstActiveSeq)
            writer.raw(",\"createdAt\":")
            times.write(select.int(8), to: &writer)
            writer.raw("}")
        }
        writer.raw("],\"nextSeq\":")
        writer.int(lastSeq)
        writer.raw(",\"hasMore\":")
        writer.bool(hasMore)
        writer.raw("}")
        return writer.bytes
    }

    /// `session:list`: sessions in creation order, filtered, paged by an opaque cursor.
    public func listSessions(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["type", "featureId", "taskId", "state", "limit", "cursor"])
        let filters: [(column: String, value: String)] = try [
            ("s.type", params.optionalIdentifier("type")), ("s.feature_id", params.optionalIdentifier("featureId")),
            ("s.task_id", params.optionalIdentifier("taskId")), ("s.state", params.optionalIdentifier("state")),
        ].compactMap { pair in pair.1.map { (pair.0, $0) } }
        let limit = try params.optionalInt("limit", range: 1...1_000) ?? 100
        var after: Int64 = 0
        if let cursor = try params.optionalString("cursor", maxBytes: 64) {
            guard let value = Int64(cursor), value >= 0 else {
                throw RPCError.invalidParams("'cursor' is not a cursor this broker returned", field: "cursor")
            }
            after = value
        }
        let conditions = (["s.rowid > ?"] + filters.map { "\($0.column) = ?" }).joined(separator: " AND ")
        do {
            let select = try db.statement(
                "SELECT \(SessionRows.columns) FROM \(SessionRows.source) WHERE \(conditions) ORDER BY s.rowid LIMIT ?")
            select.bind(1, after)
            for (index, filter) in filters.enumerated() { select.bind(Int32(index + 2), filter.value) }
            select.bind(Int32(filters.count + 2), limit + 1)
            var records: [SessionRecord] = []
            while try select.step() { records.append(SessionRows.decode(select)) }
            let hasMore = records.count > Int(limit)
            let page = records.prefix(Int(limit))
            let nextCursor: JSON = hasMore ? .string(String(page.last!.rowID)) : .null
            return JSON.object(
                JSONObject([
                    ("sessions", .array(page.map { .object($0.summaryJSON) })), ("nextCursor", nextCursor),
                ])
            ).serialized
        } catch {
            throw Self.internalError(error)
        }
    }
}
