import SQLite

/// Keeps stored token counts in step with the counter the broker runs with.
///
/// Each message's count is computed once, when it is stored. The `meta` row
/// `token_counter` names the counter that produced them. When a broker with
/// the exact counter opens a database whose counts came from the
/// approximation (or from before the row existed), every message is
/// recounted and every session total rebuilt, in one transaction, before the
/// first request is served. A broker running on the approximation never
/// rewrites counts; it marks the database so the next exact start fixes them.
public enum TokenRecount {
    public static let exactName = "cl100k_base"
    public static let approximateName = "approximate"

    /// What `reconcile` did.
    public struct Outcome: Sendable, Equatable {
        public var recountedMessages: Int
        public var previousCounter: String?
    }

    public static func reconcile(_ db: Connection, counter: any TokenCounter) throws(SQLiteError) -> Outcome {
        let current = counter.isExact ? exactName : approximateName
        let stored = try db.scalarText("SELECT value FROM meta WHERE key = 'token_counter'")
        let messageCount = try db.scalarInt("SELECT COUNT(*) FROM messages") ?? 0
        if stored == current || (stored == nil && messageCount == 0) {
            if stored == nil { try mark(db, current) }
            return Outcome(recountedMessages: 0, previousCounter: stored)
        }
        guard counter.isExact else {
            try mark(db, approximateName)
            return Outcome(recountedMessages: 0, previousCounter: stored)
        }
        var recounted = 0
        do {
            try db.transaction {
                let select = try db.statement("SELECT rowid, content, name FROM messages")
                var updates: [(Int64, Int64)] = []
                while try select.step() {
                    let tokens = MessageTokens.count(
                        content: select.text(1), name: select.optionalText(2), counter: counter)
                    updates.append((select.int(0), Int64(tokens)))
                }
                let update = try db.statement("UPDATE messages SET tokens = ? WHERE rowid = ?")
                for (rowID, tokens) in updates {
                    update.reset()
                    update.bind(1, tokens)
                    update.bind(2, rowID)
                    try update.run()
                }
                recounted = updates.count
                try db.execute(
                    """
                    UPDATE session_state SET
                    total_tokens = (SELECT COALESCE(SUM(tokens), 0) FROM messages m
                        WHERE m.session = session_state.session),
                    active_tokens = (SELECT COALESCE(SUM(tokens), 0) FROM messages m
                        WHERE m.session = session_state.session AND m.seq >= session_state.first_active_seq)
                    """)
                try mark(db, exactName)
            }
        } catch let error as SQLiteError {
            throw error
        } catch {
            throw SQLiteError(code: -1, message: "\(error)")
        }
        return Outcome(recountedMessages: recounted, previousCounter: stored)
    }

    private static func mark(_ db: Connection, _ name: String) throws(SQLiteError) {
        let upsert = try db.statement(
            """
            INSERT INTO meta (key, value) VALUES ('token_counter', ?)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value
            """
        )
        upsert.bind(1, name)
        try upsert.run()
    }
}
