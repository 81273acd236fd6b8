import SQLite

/// Keeps stored token counts in step with the counter and request layout the broker runs with.
///
/// Each message's counts are computed once, when it is stored: `tokens` (the
/// chat framing, `MessageTokens`) and `prompt_tokens` (its block in a built
/// request, `RequestLayout`). The `meta` rows `token_counter` and
/// `request_layout` say what produced them. At start, before the first
/// request is served and in one transaction:
/// - a broker with the exact counter recounts everything the approximation
///   counted (or that predates the row); a broker on the approximation never
///   rewrites exact counts, and marks the database so the next exact start
///   fixes its own;
/// - a new layout version, or rows from before `prompt_tokens` existed, get
///   their prompt tokens counted;
/// and then every session's sums and fixed-section counts are rebuilt.
public enum TokenRecount {
    public static let exactName = "cl100k_base"
    public static let approximateName = "approximate"

    /// What `reconcile` did.
    public struct Outcome: Sendable, Equatable {
        /// Messages whose chat-framed count was recomputed.
        public var recountedMessages: Int
        /// Messages whose prompt-block count was computed.
        public var recountedPrompts: Int = 0
        public var previousCounter: String?
    }

    public static func reconcile(_ db: Connection, counter: any TokenCounter) throws(SQLiteError) -> Outcome {
        let current = counter.isExact ? exactName : approximateName
        let stored = try metaValue(db, "token_counter")
        let storedLayout = try metaValue(db, "request_layout")
        let messageCount = try db.scalarInt("SELECT COUNT(*) FROM messages") ?? 0
        let missingPrompts = try db.scalarInt("SELECT COUNT(*) FROM messages WHERE prompt_tokens IS NULL") ?? 0
        let counterChanged = stored != current && !(stored == nil && messageCount == 0)
        let recountChat = counterChanged && counter.isExact
        let recountPrompts = recountChat || (storedLayout != nil && storedLayout != RequestLayout.version)
        var outcome = Outcome(recountedMessages: 0, previousCounter: stored)
        do {
            try db.transaction {
                if recountChat || recountPrompts || missingPrompts > 0 {
                    let onlyMissing = !(recountChat || recountPrompts)
                    (outcome.recountedMessages, outcome.recountedPrompts) = try recount(
                        db, counter: counter, chat: recountChat, onlyMissingPrompts: onlyMissing)
                    try rebuildSessions(db, counter: counter)
                }
                try setMeta(db, "token_counter", current)
                try setMeta(db, "request_layout", RequestLayout.version)
            }
        } catch let error as SQLiteError {
            throw error
        } catch {
            throw SQLiteError(code: -1, message: "\(error)")
        }
        return outcome
    }

    private static func recount(
        _ db: Connection, counter: any TokenCounter, chat: Bool, onlyMissingPrompts: Bool
    ) throws(SQLiteError) -> (chat: Int, prompts: Int) {
        let filter = onlyMissingPrompts ? " WHERE prompt_tokens IS NULL" : ""
        let select = try db.statement("SELECT rowid, role, content, name, tool_call_id, tokens FROM messages\(filter)")
        var updates: [(rowID: Int64, tokens: Int64, prompt: Int64)] = []
        while try select.step() {
            let content = select.text(2)
            let name = select.optionalText(3)
            let tokens =
                chat ? Int64(MessageTokens.count(content: content, name: name, counter: counter)) : select.int(5)
            let block = RequestLayout.messageBlock(
                role: select.text(1), content: content, name: name, toolCallId: select.optionalText(4))
            updates.append((select.int(0), tokens, Int64(counter.count(block))))
        }
        let update = try db.statement("UPDATE messages SET tokens = ?, prompt_tokens = ? WHERE rowid = ?")
        for row in updates {
            update.reset()
            update.bindAll(row.tokens, row.prompt, row.rowID)
            try update.run()
        }
        return (chat ? updates.count : 0, updates.count)
    }

    /// Rebuilds every session's sums from its messages, and its fixed sections' count.
    private static func rebuildSessions(_ db: Connection, counter: any TokenCounter) throws(SQLiteError) {
        try db.execute(
            """
            UPDATE session_state SET
            total_tokens = (SELECT COALESCE(SUM(tokens), 0) FROM messages m WHERE m.session = session_state.session),
            active_tokens = (SELECT COALESCE(SUM(tokens), 0) FROM messages m
                WHERE m.session = session_state.session AND m.seq >= session_state.first_active_seq),
            active_prompt_tokens = (SELECT COALESCE(SUM(prompt_tokens), 0) FROM messages m
                WHERE m.session = session_state.session AND m.seq >= session_state.first_active_seq)
            """)
        let select = try db.statement("SELECT \(SessionRows.columns) FROM \(SessionRows.source)")
        var bases: [(Int64, Int64)] = []
        while try select.step() {
            let record = SessionRows.decode(select)
            let checkpoint = try CheckpointRows.load(db, session: record, version: record.checkpointVersion)
            bases.append(
                (
                    record.rowID,
                    BaseSections(
                        record: record, checkpoint: checkpoint ?? Checkpoint(), counter: counter
                    ).totalTokens
                ))
        }
        let update = try db.statement("UPDATE session_state SET base_tokens = ? WHERE session = ?")
        for (rowID, base) in bases {
            update.reset()
            update.bindAll(base, rowID)
            try update.run()
        }
    }

    private static func metaValue(_ db: Connection, _ key: String) throws(SQLiteError) -> String? {
        let select = try db.statement("SELECT value FROM meta WHERE key = ?")
        select.bind(1, key)
        return try select.step() ? select.text(0) : nil
    }

    private static func setMeta(_ db: Connection, _ key: String, _ value: String) throws(SQLiteError) {
        let upsert = try db.statement(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        upsert.bindAll(key, value)
        try upsert.run()
    }
}
