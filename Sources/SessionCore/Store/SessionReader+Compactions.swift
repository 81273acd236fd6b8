import BrokerProtocol
import SQLite

extension SessionReader {
    /// The compactor's snapshot: the session, its checkpoint and its active messages, read in one transaction.
    public func compactionPlan(sessionId: String) throws(RPCError) -> CompactionPlan {
        try snapshot { () throws(RPCError) -> CompactionPlan in
            let record = try session(sessionId)
            let checkpoint = try loadCheckpoint(record)
            var active: [StoredMessage] = []
            active.reserveCapacity(Int(record.activeCount))
            do throws(SQLiteError) {
                let select = try db.statement(
                    """
                    SELECT seq, role, content, name, tool_call_id, metadata, tokens, prompt_tokens FROM messages
                    WHERE session = ? AND seq >= ? ORDER BY seq
                    """)
                select.bind(1, record.rowID)
                select.bind(2, record.firstActiveSeq)
                while try select.step() {
                    active.append(
                        StoredMessage(
                            seq: select.int(0), role: select.text(1), content: select.text(2),
                            name: select.optionalText(3), toolCallId: select.optionalText(4),
                            metadata: select.optionalText(5), tokens: select.int(6), promptTokens: select.int(7)))
                }
            } catch { throw Self.internalError(error) }
            return CompactionPlan(session: record, checkpoint: checkpoint, active: active)
        }
    }

    /// `session:listCompactions`: the session's compactions, newest first.
    public func listCompactions(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId", "limit"])
        let id = try params.identifier("sessionId")
        let limit = try params.optionalInt("limit", range: 1...1_000) ?? 100
        return try snapshot { () throws(RPCError) -> [UInt8] in
            let record = try session(id)
            var items: [JSON] = []
            do throws(SQLiteError) {
                let select = try db.statement(
                    """
                    SELECT checkpoint_version, reason, summarizer, from_seq, through_seq, message_count,
                    tokens_before, tokens_after, duration_ms, instructions, created_at FROM compactions
                    WHERE session = ? ORDER BY checkpoint_version DESC LIMIT ?
                    """)
                select.bind(1, record.rowID)
                select.bind(2, limit)
                while try select.step() {
                    let before = select.int(6)
                    let after = select.int(7)
                    items.append(
                        .object(
                            JSONObject([
                                ("checkpointVersion", .int(select.int(0))), ("reason", .string(select.text(1))),
                                ("summarizer", .string(select.text(2))), ("fromSeq", .int(select.int(3))),
                                ("throughSeq", .int(select.int(4))), ("messageCount", .int(select.int(5))),
                                ("tokensBefore", .int(before)), ("tokensAfter", .int(after)),
                                ("tokensSaved", .int(max(0, before - after))), ("durationMs", .int(select.int(8))),
                                ("instructions", .optional(select.optionalText(9))),
                                ("createdAt", .string(Timestamp.iso8601(select.int(10)))),
                            ])))
                }
            } catch { throw Self.internalError(error) }
            return JSON.object(JSONObject([("sessionId", .string(id)), ("compactions", .array(items))])).serialized
        }
    }
}

extension SessionReader {
    /// The stored result of an idempotent write with `requestId`, if it was applied under `scope`
    /// (`"<method> <sessionId>"`); `conflict` if the id was used for something else.
    public func storedResult(requestId: String, scope: String) throws(RPCError) -> [UInt8]? {
        let stored: (method: String, result: [UInt8])?
        do throws(SQLiteError) {
            let select = try db.statement("SELECT method, result FROM request_results WHERE request_id = ?")
            select.bind(1, requestId)
            stored = try select.step() ? (select.text(0), Array(select.text(1).utf8)) : nil
        } catch { throw Self.internalError(error) }
        guard let stored else { return nil }
        guard stored.method == scope else {
            throw RPCError(
                .conflict, "requestId '\(requestId)' was already used for \(stored.method)",
                details: JSONObject([("requestId", .string(requestId))]))
        }
        return stored.result
    }
}
