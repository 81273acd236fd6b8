import CSQLite

/// A prepared statement, owned by its `Connection` and used on its thread.
public final class Statement {
    let handle: OpaquePointer
    private unowned let connection: Connection

    init(connection: Connection, sql: String) throws(SQLiteError) {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw connection.error(rc) }
        handle = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and clears its bindings.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Advances to the next row; false when done.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = connection.error(rc)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Runs a statement that returns no rows.
    public func run() throws(SQLiteError) {
        while try step() {}
    }

    // MARK: Binding (1-based indexes, as in SQLite)

    public func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    public func bind(_ index: Int32, _ value: Int) { bind(index, Int64(value)) }

    public func bind(_ index: Int32, _ value: Double) {
        sqlite3_bind_double(handle, index, value)
    }

    public func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            _ = sqlite3_bind_text(handle, index, utf8.baseAddress, Int32(utf8.count), csqlite_transient())
        }
    }

    public func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, _ value: Int64?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), csqlite_transient())
        }
    }

    /// Binds several values from index 1 on.
    public func bindAll(_ values: any StatementArgument...) {
        for (offset, value) in values.enumerated() { value.bind(to: self, at: Int32(offset + 1)) }
    }

    // MARK: Columns (0-based indexes, as in SQLite)

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    public func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    public func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }

    /// The column's bytes without copying, valid until the next step or reset.
    public func withBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else {
            return body(UnsafeBufferPointer(start: nil, count: 0))
        }
        return body(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: count))
    }
}

/// A value that can be bound to a statement parameter.
public protocol StatementArgument {
    func bind(to statement: Statement, at index: Int32)
}

extension Int64: StatementArgument {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, self) }
}
extension Int: StatementArgument {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, Int64(self)) }
}
extension String: StatementArgument {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, self) }
}
extension Double: StatementArgument {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, self) }
}
extension Optional: StatementArgument where Wrapped: StatementArgument {
    public func bind(to statement: Statement, at index: Int32) {
        if let value = self { value.bind(to: statement, at: index) } else { sqlite3_bind_null(statement.handle, index) }
    }
}
