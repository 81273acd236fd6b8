import BrokerProtocol
import SQLite

extension SessionReader {
    /// `events:since`: persisted events after `seq`, oldest first, for subscribers that missed some.
    public func eventsSince(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["seq", "limit", "topic"])
        guard params["seq"] != nil else { throw RPCError.invalidParams("missing parameter 'seq'", field: "seq") }
        let after = try params.optionalInt("seq", range: 0...Int64.max) ?? 0
        let limit = try params.optionalInt("limit", range: 1...10_000) ?? 1_000
        let prefix = try params.optionalString("topic", maxBytes: 256) ?? ""
        do {
            try db.statement("BEGIN").run()
            defer { try? db.statement("COMMIT").run() }
            let select = try db.statement(
                "SELECT seq, body FROM events WHERE seq > ? AND substr(topic, 1, ?) = ? ORDER BY seq LIMIT ?")
            select.bind(1, after)
            select.bind(2, Int64(prefix.utf8.count))
            select.bind(3, prefix)
            select.bind(4, limit + 1)
            var writer = JSONWriter(capacity: 4096)
            writer.raw("{\"events\":[")
            var count: Int64 = 0
            var lastSeq = after
            var hasMore = false
            while try select.step() {
                if count == limit { hasMore = true; break }
                if count > 0 { writer.comma() }
                count += 1
                lastSeq = select.int(0)
                select.withBytes(1) { writer.rawBytes($0) }
            }
            let head = try db.scalarInt("SELECT COALESCE(MAX(seq), 0) FROM events") ?? 0
            writer.raw("],\"nextSeq\":")
            writer.int(lastSeq)
            writer.raw(",\"lastSeq\":")
            writer.int(head)
            writer.raw(",\"hasMore\":")
            writer.bool(hasMore)
            writer.raw("}")
            return writer.bytes
        } catch {
            throw Self.internalError(error)
        }
    }

    /// Database figures for `broker:stats`.
    public func storeStats() throws(RPCError) -> JSONObject {
        do {
            try db.statement("BEGIN").run()
            defer { try? db.statement("COMMIT").run() }
            let totals = try db.statement(
                """
                SELECT COUNT(*), COALESCE(SUM(message_count), 0), COALESCE(SUM(active_count), 0),
                COALESCE(SUM(active_tokens), 0) FROM session_state
                """)
            _ = try totals.step()
            let sessions = totals.int(0), messages = totals.int(1), active = totals.int(2), tokens = totals.int(3)
            let lastEvent = try db.scalarInt("SELECT COALESCE(MAX(seq), 0) FROM events") ?? 0
            return JSONObject([
                ("sessions", .int(sessions)), ("messages", .int(messages)), ("activeMessages", .int(active)),
                ("archivedMessages", .int(messages - active)), ("activeTokens", .int(tokens)),
                ("lastEventSeq", .int(lastEvent)),
            ])
        } catch {
            throw Self.internalError(error)
        }
    }
}
