import SQLite

/// The database schema and its migrations.
///
/// `PRAGMA user_version` holds the schema version. Migrations run in order,
/// each in its own transaction. A database from a newer broker is refused
/// untouched: guessing at a future layout could destroy data.
public enum Schema {
    /// The version this build writes.
    public static let currentVersion: Int64 = 4

    /// Each entry upgrades from version `index` to `index + 1`.
    static let migrations: [String] = [
        // 0 -> 1: sessions, messages, checkpoints, events, idempotent request results.
        """
        CREATE TABLE sessions (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            feature_id TEXT NOT NULL,
            task_id TEXT,
            state TEXT NOT NULL,
            token_limit INTEGER NOT NULL,
            context TEXT NOT NULL,
            agent_description TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        -- Counters change with every message: a narrow row of their own, so a commit rewrites
        -- a few bytes, not a row that carries a large context or agent description.
        CREATE TABLE session_state (
            session INTEGER PRIMARY KEY,
            next_seq INTEGER NOT NULL DEFAULT 1,
            first_active_seq INTEGER NOT NULL DEFAULT 1,
            message_count INTEGER NOT NULL DEFAULT 0,
            active_count INTEGER NOT NULL DEFAULT 0,
            total_tokens INTEGER NOT NULL DEFAULT 0,
            active_tokens INTEGER NOT NULL DEFAULT 0,
            checkpoint_version INTEGER NOT NULL DEFAULT 0,
            compactions INTEGER NOT NULL DEFAULT 0,
            tokens_saved INTEGER NOT NULL DEFAULT 0,
            last_compaction_ms INTEGER,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX sessions_by_feature ON sessions(feature_id);
        CREATE TABLE messages (
            rowid INTEGER PRIMARY KEY,
            session INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            name TEXT,
            tool_call_id TEXT,
            metadata TEXT,
            tokens INTEGER NOT NULL,
            session_tokens INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX messages_by_seq ON messages(session, seq);
        CREATE UNIQUE INDEX messages_by_id ON messages(message_id);
        CREATE TABLE checkpoints (
            session INTEGER NOT NULL,
            version INTEGER NOT NULL,
            summary TEXT NOT NULL,
            completed TEXT NOT NULL,
            pending TEXT NOT NULL,
            decisions TEXT NOT NULL,
            blockers TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (session, version)
        ) WITHOUT ROWID;
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            body TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE TABLE request_results (
            request_id TEXT PRIMARY KEY,
            method TEXT NOT NULL,
            result TEXT NOT NULL,
            at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        // 1 -> 2: a key/value table; `token_counter` records which counter produced the stored
        // counts. Rows written before have none, so the next start recounts them (TokenRecount).
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        """,
        // 2 -> 3: request building and compaction. `prompt_tokens` is a message's block in a built
        // request (RequestLayout), counted once when stored; rows from before are counted at the next
        // start (TokenRecount). The session keeps the sum over its active messages and the count of its
        // fixed sections, so the size of its next request is known without reading a message.
        """
        ALTER TABLE messages ADD COLUMN prompt_tokens INTEGER;
        ALTER TABLE session_state ADD COLUMN active_prompt_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE session_state ADD COLUMN base_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE session_state ADD COLUMN last_compaction_at INTEGER;
        CREATE TABLE compactions (
            session INTEGER NOT NULL,
            checkpoint_version INTEGER NOT NULL,
            reason TEXT NOT NULL,
            summarizer TEXT NOT NULL,
            from_seq INTEGER NOT NULL,
            through_seq INTEGER NOT NULL,
            message_count INTEGER NOT NULL,
            tokens_before INTEGER NOT NULL,
            tokens_after INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL,
            instructions TEXT,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (session, checkpoint_version)
        ) WITHOUT ROWID;
        """,
        // 3 -> 4: agent work. Jobs are queued durably (a restart queues queued and running ones again);
        // tasks carry their plan, state and sessions; each Dev iteration's check results are kept.
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            service TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            timeout_ms INTEGER NOT NULL,
            deadline_at INTEGER NOT NULL,
            worker TEXT,
            result TEXT,
            error TEXT,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX jobs_by_state ON jobs(state, created_at);
        CREATE INDEX jobs_by_created ON jobs(created_at);
        CREATE TABLE tasks (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            feature_id TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT NOT NULL,
            checks TEXT NOT NULL,
            depends_on TEXT NOT NULL,
            workspace TEXT,
            state TEXT NOT NULL,
            iteration INTEGER NOT NULL,
            sessions TEXT NOT NULL,
            failure_reason TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX tasks_by_feature ON tasks(feature_id, rowid);
        CREATE TABLE task_iterations (
            task TEXT NOT NULL,
            iteration INTEGER NOT NULL,
            passed INTEGER NOT NULL,
            results TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (task, iteration)
        ) WITHOUT ROWID;
        """,
    ]

    /// Throws `newerSchema` for a database from a newer broker, reading it without changing a byte.
    static func refuseNewer(path: String) throws(StoreError) {
        let version: Int64
        do {
            guard let reader = try? Connection(path: path, readOnly: true) else { return }  // a new file
            version = try reader.scalarInt("PRAGMA user_version") ?? 0
        } catch {
            if error.isCorrupt { throw StoreError.corrupt(path: path, error) }
            throw StoreError.sqlite(error)
        }
        if version > currentVersion { throw StoreError.newerSchema(found: version, supported: currentVersion) }
    }

    /// Brings the database up to `currentVersion`, or refuses a newer one.
    public static func migrate(_ connection: Connection) throws(StoreError) {
        do {
            let version = try connection.scalarInt("PRAGMA user_version") ?? 0
            if version > currentVersion {
                throw StoreError.newerSchema(found: version, supported: currentVersion)
            }
            for step in Int(version)..<Int(currentVersion) {
                try connection.transaction {
                    try connection.execute(migrations[step])
                    try connection.execute("PRAGMA user_version = \(step + 1)")
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw StoreError.sqlite(error)
        } catch {
            throw StoreError.sqlite(SQLiteError(code: -1, message: "\(error)"))
        }
    }
}
