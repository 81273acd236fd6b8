import CSQLite

/// One SQLite connection.
///
/// An `sqlite3*` must be used by one thread at a time, so this type is not
/// `Sendable`: open it on the thread that uses it. Prepared statements are
/// cached by SQL text because building one costs several times more than
/// running it. The handle is closed once, in `deinit`, after its statements.
public final class Connection {
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    /// Statements from string literals, keyed by the literal's address: no hashing of SQL text per use.
    private var literalCache: [UInt: Statement] = [:]
    /// Frames in the WAL after the last commit, kept by a WAL hook once `trackWALSize()` is on.
    private let walFrameCount = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    /// Opens (or creates, unless `readOnly`) the database at `path`.
    public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var db: OpaquePointer?
        // NOMUTEX: the connection is confined to one thread, so SQLite's own locking is waste.
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message) (\(path))")
        }
        handle = db
        walFrameCount.initialize(to: 0)
        sqlite3_extended_result_codes(db, 1)
        // Readers and the writer share a WAL file: wait briefly instead of failing on a busy lock.
        sqlite3_busy_timeout(db, 5_000)
    }

    deinit {
        cache.removeAll()
        literalCache.removeAll()
        sqlite3_close_v2(handle)
        walFrameCount.deallocate()
    }

    /// Keeps `walFrames` current after every commit of this connection (a WAL hook).
    ///
    /// The hook replaces SQLite's automatic checkpoint, which must be off for it (`wal_autocheckpoint=0`).
    public func trackWALSize() {
        sqlite3_wal_hook(
            handle,
            { context, _, _, frames in
                context?.assumingMemoryBound(to: Int32.self).pointee = frames
                return SQLITE_OK
            }, UnsafeMutableRawPointer(walFrameCount))
    }

    /// Frames in the WAL after this connection's last commit (0 until `trackWALSize()`).
    public var walFrames: Int { Int(walFrameCount.pointee) }

    /// How far a checkpoint goes.
    public enum CheckpointMode: Sendable {
        /// Copies what it can without waiting for readers or the writer.
        case passive
        /// Copies everything, waits for readers, then truncates the WAL to zero bytes (used at shutdown).
        case truncate

        var rawValue: Int32 { self == .passive ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_TRUNCATE }
    }

    /// Copies WAL frames into the database file; returns the WAL's frames and how many are now copied.
    /// A busy database (another checkpoint running) is not an error: it reports what is copied so far.
    @discardableResult
    public func checkpoint(_ mode: CheckpointMode = .passive) throws(SQLiteError) -> (walFrames: Int, checkpointed: Int)
    {
        var log: Int32 = 0
        var done: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, mode.rawValue, &log, &done)
        guard rc == SQLITE_OK || rc == SQLITE_BUSY else { throw error(rc) }
        return (Int(log), Int(done))
    }

    func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text)
        }
    }

    /// A prepared statement for `sql`, reused across calls and reset before each use.
    public func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Resets every cached statement, ending the read any of them still holds open.
    ///
    /// A statement stepped to a row but not to its end keeps its read
    /// snapshot, which pins the WAL (checkpoints cannot finish) and locks
    /// tables against a checkpoint on the same connection.
    public func resetAll() {
        for statement in cache.values { sqlite3_reset(statement.handle) }
        for statement in literalCache.values { sqlite3_reset(statement.handle) }
    }

    /// A prepared statement for a SQL literal: like `statement(_:)`, found by the literal's address.
    public func cached(_ sql: StaticString) throws(SQLiteError) -> Statement {
        let key = UInt(bitPattern: sql.utf8Start)
        if let cached = literalCache[key] {
            cached.reset()
            return cached
        }
        let text = sql.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        let statement = try Statement(connection: self, sql: text)
        literalCache[key] = statement
        return statement
    }

    /// The rowid of the last INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Rows changed since the connection opened; a difference shows that statements wrote something.
    public var totalChanges: Int64 { Int64(sqlite3_total_changes64(handle)) }

    /// Whether a transaction is open.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in a transaction, committing on return and rolling back on a throw.
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if inTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// One integer from the first row of `sql` (a PRAGMA or a COUNT), or nil for no rows.
    public func scalarInt(_ sql: String) throws(SQLiteError) -> Int64? {
        let statement = try statement(sql)
        guard try statement.step() else { return nil }
        return statement.int(0)
    }

    /// One text value from the first row of `sql`, or nil for no rows or NULL.
    public func scalarText(_ sql: String) throws(SQLiteError) -> String? {
        let statement = try statement(sql)
        guard try statement.step() else { return nil }
        return statement.optionalText(0)
    }

    /// The SQLite library version.
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
