import BrokerProtocol
import SQLite

/// Reading and writing `sessions` rows, shared by the writer and the readers.
enum SessionRows {
    /// The columns `decode` reads, from `sessions s JOIN session_state t` (see `source`).
    static let columns = """
        s.rowid, s.id, s.type, s.feature_id, s.task_id, s.state, s.token_limit, s.context, s.agent_description, \
        t.next_seq, t.first_active_seq, t.message_count, t.active_count, t.total_tokens, t.active_tokens, \
        t.checkpoint_version, t.compactions, t.tokens_saved, t.last_compaction_ms, s.created_at, t.updated_at, \
        t.last_compaction_at, t.active_prompt_tokens, t.base_tokens
        """

    static let source = "sessions s JOIN session_state t ON t.session = s.rowid"
    static let selectByID = "SELECT \(columns) FROM \(source) WHERE s.id = ?"

    /// Decodes a row selected with `columns`, starting at column 0.
    static func decode(_ row: Statement) -> SessionRecord {
        SessionRecord(
            rowID: row.int(0), id: row.text(1), type: row.text(2), featureId: row.text(3),
            taskId: row.optionalText(4), state: row.text(5), tokenLimit: row.int(6), context: row.text(7),
            agentDescription: row.text(8), nextSeq: row.int(9), firstActiveSeq: row.int(10),
            messageCount: row.int(11), activeCount: row.int(12), totalTokens: row.int(13),
            activeTokens: row.int(14), checkpointVersion: row.int(15), compactions: row.int(16),
            tokensSaved: row.int(17), lastCompactionMs: row.optionalInt(18),
            lastCompactionAt: row.optionalInt(21), activePromptTokens: row.int(22), baseTokens: row.int(23),
            createdAt: row.int(19), updatedAt: row.int(20))
    }

    static func load(_ db: Connection, id: String) throws(SQLiteError) -> SessionRecord? {
        let select = try db.statement(selectByID)
        select.bind(1, id)
        guard try select.step() else { return nil }
        return decode(select)
    }
}

extension SessionWriter {
    /// The session's current record, from the cache or the database; `not_found` if there is none.
    func session(_ id: String) throws(CommandError) -> SessionRecord {
        if let cached = cache[id] { return cached }
        let loaded: SessionRecord?
        do { loaded = try SessionRows.load(db, id: id) } catch { throw .sqlite(error) }
        guard let record = loaded else { throw .rpc(.notFound("session", id)) }
        setCached(id, record)
        return record
    }

    /// Replaces the cached record; the row is written at commit.
    func store(_ record: SessionRecord) {
        setCached(record.id, record)
        dirty.insert(record.id)
    }

    /// The one way the cache changes, so a failed command's changes can be undone.
    func setCached(_ id: String, _ record: SessionRecord?) {
        undo.append((id, cache[id]))
        cache[id] = record
    }

    /// Writes the counters of a cached record (labels and documents are written by the commands that change them).
    func writeSessionRow(_ r: SessionRecord) throws(SQLiteError) {
        let update = try db.cached(
            """
            UPDATE session_state SET next_seq = ?, first_active_seq = ?, message_count = ?, active_count = ?,
            total_tokens = ?, active_tokens = ?, checkpoint_version = ?, compactions = ?, tokens_saved = ?,
            last_compaction_ms = ?, updated_at = ?, last_compaction_at = ?, active_prompt_tokens = ?,
            base_tokens = ? WHERE session = ?
            """)
        update.bindAll(
            r.nextSeq, r.firstActiveSeq, r.messageCount, r.activeCount, r.totalTokens, r.activeTokens,
            r.checkpointVersion, r.compactions, r.tokensSaved, r.lastCompactionMs, r.updatedAt, r.lastCompactionAt,
            r.activePromptTokens, r.baseTokens, r.rowID)
        try update.run()
    }
}
