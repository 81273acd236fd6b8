import SQLite

/// Why the store could not be opened or used.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// The database was written by a newer broker; it is left untouched.
    case newerSchema(found: Int64, supported: Int64)
    /// Another broker process holds the database.
    case locked(path: String)
    /// The file is not a database, or is damaged.
    case corrupt(path: String, SQLiteError)
    case sqlite(SQLiteError)
    case io(String)

    public var description: String {
        switch self {
        case .newerSchema(let found, let supported):
            "the database has schema version \(found), newer than this broker supports (\(supported)); "
                + "upgrade the broker, the database was not modified"
        case .locked(let path):
            "the database \(path) is in use by another broker process"
        case .corrupt(let path, let error):
            "the database \(path) is not a valid AgentBroker database: \(error.message)"
        case .sqlite(let error): error.description
        case .io(let message): message
        }
    }
}
