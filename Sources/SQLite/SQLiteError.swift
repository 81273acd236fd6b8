import CSQLite

/// An error reported by SQLite: its result code and message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code (SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY, ...).
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// The primary result code (the low byte of the extended one).
    public var primaryCode: Int32 { code & 0xFF }
    public var isConstraintViolation: Bool { primaryCode == SQLITE_CONSTRAINT }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    public var isCorrupt: Bool { primaryCode == SQLITE_CORRUPT || primaryCode == SQLITE_NOTADB }
    public var isDiskFull: Bool { primaryCode == SQLITE_FULL }

    public var description: String { "SQLite error \(code): \(message)" }
}
