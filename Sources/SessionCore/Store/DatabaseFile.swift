import SQLite

#if canImport(Glibc)
    import Glibc
#endif

/// How durable a commit is before its reply goes out.
public enum SyncMode: String, Sendable, CaseIterable {
    /// WAL with synchronous=NORMAL: survives a killed broker; the last commits may be lost on power loss.
    case normal
    /// synchronous=FULL: each commit reaches the disk first; survives power loss.
    case full
}

/// The database file: its exclusive lock, and connections configured for their role.
///
/// Only one broker may open a database. The lock is an `flock` on a
/// `<path>.lock` file beside it, held for the life of this object, so a
/// second broker fails at once with a clear message instead of sharing the
/// file. The kernel drops the lock when the process dies, even by kill -9.
public final class DatabaseFile: @unchecked Sendable {
    // @unchecked Sendable: only immutable values and a file descriptor that is closed in deinit.
    public let path: String
    public let syncMode: SyncMode
    private let lockDescriptor: Int32

    /// Locks `path`, creates its folder, and brings the schema up to date.
    public init(path: String, syncMode: SyncMode) throws(StoreError) {
        self.path = path
        self.syncMode = syncMode
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty { try Self.makeDirectories(directory) }
        lockDescriptor = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else {
            throw StoreError.io("cannot create \(path).lock: \(String(cString: strerror(errno)))")
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw StoreError.locked(path: path)
        }
        do {
            // Read the version before anything writes (even `journal_mode=WAL` rewrites the header).
            try Schema.refuseNewer(path: path)
            let connection = try openWriter()
            try Schema.migrate(connection)
        } catch {
            flock(lockDescriptor, LOCK_UN)
            close(lockDescriptor)
            throw error
        }
    }

    deinit {
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }

    /// The connection that does all writing: WAL, the chosen sync mode, no automatic checkpoints
    /// (they would stall a commit; `Connection.checkpoint` runs them off the hot path).
    public func openWriter() throws(StoreError) -> Connection {
        do {
            let connection = try Connection(path: path)
            try connection.execute("PRAGMA journal_mode=WAL")
            try connection.execute("PRAGMA synchronous=\(syncMode == .full ? "FULL" : "NORMAL")")
            try connection.execute("PRAGMA wal_autocheckpoint=0")
            connection.trackWALSize()
            try connection.execute("PRAGMA foreign_keys=OFF")
            try connection.execute("PRAGMA cache_size=-65536")
            // Temporary b-trees (sorts, statement journals) stay in memory rather than in temp files.
            try connection.execute("PRAGMA temp_store=MEMORY")
            return connection
        } catch {
            if error.isCorrupt { throw StoreError.corrupt(path: path, error) }
            throw StoreError.sqlite(error)
        }
    }

    /// A connection for reading; WAL lets it read while the writer commits.
    public func openReader() throws(StoreError) -> Connection {
        do {
            let connection = try Connection(path: path)
            try connection.execute("PRAGMA query_only=ON")
            try connection.execute("PRAGMA cache_size=-32768")
            return connection
        } catch {
            throw StoreError.sqlite(error)
        }
    }

    /// The size of the database and its WAL on disk, in bytes.
    public func sizeOnDisk() -> Int64 {
        [path, path + "-wal"].reduce(0) { total, file in
            var info = stat()
            return stat(file, &info) == 0 ? total + Int64(info.st_size) : total
        }
    }

    private static func makeDirectories(_ directory: String) throws(StoreError) {
        var current = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw StoreError.io("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
