import BrokerProtocol
import SessionCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Exports and imports in progress, shared by the reader threads that serve their requests.
///
/// An export holds a read snapshot (its own connection), so an idle one is
/// closed after a minute: a forgotten export must not stop the WAL from
/// restarting for ever. An idle import is dropped after ten minutes with its spool.
final class TransferRegistry: Sendable {
    static let maxExports = 8
    static let exportIdleMs: Int64 = 60_000
    static let importIdleMs: Int64 = 600_000
    static let maxSpoolBytes: Int64 = 16 << 30

    private let exports = Mutex<[String: OpenExport]>([:])
    private let imports = Mutex<[String: OpenImport]>([:])

    /// Registers `cursor`; `unavailable` when too many exports are open.
    func add(_ cursor: sending ExportCursor) throws(RPCError) -> String {
        sweep()
        let id = Identifier.make("exp")
        let open = OpenExport(cursor)
        let added = exports.withLock { exports in
            guard exports.count < Self.maxExports else { return false }
            exports[id] = open
            return true
        }
        guard added else {
            open.close()
            throw RPCError(
                .unavailable, "\(Self.maxExports) exports are open; finish or close one (export:close) and try again")
        }
        return id
    }

    func export(_ id: String) throws(RPCError) -> OpenExport {
        sweep()
        guard let open = exports.withLock({ $0[id] }) else {
            throw RPCError(
                .notFound, "export '\(id)' is not open (finished, closed, or idle for more than 60 s)",
                details: JSONObject([("id", .string(id))]))
        }
        return open
    }

    func removeExport(_ id: String) -> OpenExport? { exports.withLock { $0.removeValue(forKey: id) } }

    func add(_ upload: OpenImport) -> String {
        sweep()
        imports.withLock { $0[upload.id] = upload }
        return upload.id
    }

    func upload(_ id: String) throws(RPCError) -> OpenImport {
        sweep()
        guard let upload = imports.withLock({ $0[id] }) else {
            throw RPCError(
                .notFound, "import '\(id)' is not open (committed, aborted, or idle for more than 10 minutes)",
                details: JSONObject([("id", .string(id))]))
        }
        return upload
    }

    func removeImport(_ id: String) -> OpenImport? { imports.withLock { $0.removeValue(forKey: id) } }

    /// Closes exports and drops imports nobody used for too long.
    func sweep() {
        let now = Timestamp.monotonicMillis()
        let staleExports = exports.withLock { exports in
            let stale = exports.filter { now - $0.value.lastUsed.load(ordering: .relaxed) > Self.exportIdleMs }
            for id in stale.keys { exports[id] = nil }
            return Array(stale.values)
        }
        for open in staleExports { open.close() }
        let staleImports = imports.withLock { imports in
            let stale = imports.filter { now - $0.value.lastUsed.load(ordering: .relaxed) > Self.importIdleMs }
            for id in stale.keys { imports[id] = nil }
            return Array(stale.values)
        }
        for upload in staleImports { upload.discard() }
    }

    /// At shutdown: every snapshot released, every spool removed.
    func closeAll() {
        let open = exports.withLock { exports in
            defer { exports.removeAll() }
            return Array(exports.values)
        }
        for export in open { export.close() }
        let all = imports.withLock { imports in
            defer { imports.removeAll() }
            return Array(imports.values)
        }
        for upload in all { upload.discard() }
    }
}

/// An export's cursor behind a lock: reads of one export never overlap.
final class OpenExport: Sendable {
    let cursor: Mutex<ExportCursor?>
    let lastUsed = Atomic<Int64>(Timestamp.monotonicMillis())

    init(_ cursor: sending ExportCursor) { self.cursor = Mutex(cursor) }

    func touch() { lastUsed.store(Timestamp.monotonicMillis(), ordering: .relaxed) }

    func close() {
        cursor.withLock { cursor in
            cursor?.close()
            cursor = nil
        }
    }
}

/// An upload being spooled to a file beside the database; nothing reaches the database before commit.
final class OpenImport: Sendable {
    struct State {
        var descriptor: Int32
        var nextSeq: Int64 = 0
        var bytes: Int64 = 0
        var finished = false
    }

    let id: String
    let kind: ImportKind
    let clear: Bool
    let path: String
    let state: Mutex<State>
    let lastUsed = Atomic<Int64>(Timestamp.monotonicMillis())

    init(kind: ImportKind, clear: Bool, databasePath: String) throws(RPCError) {
        id = Identifier.make("imp")
        self.kind = kind
        self.clear = clear
        path = Self.spoolPrefix(databasePath: databasePath) + "\(id).spool"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw RPCError(.unavailable, "cannot create the import spool \(path): \(String(cString: strerror(errno)))")
        }
        state = Mutex(State(descriptor: descriptor))
    }

    func touch() { lastUsed.store(Timestamp.monotonicMillis(), ordering: .relaxed) }

    /// Spools sit beside the database and are named after it (`broker.db.imp_….spool`), so the broker
    /// that holds the database's lock knows which ones are its own.
    static func spoolPrefix(databasePath: String) -> String { databasePath + "." }

    /// Deletes the spools of imports a crash or kill -9 left behind; call it holding the database's lock
    /// and before any import begins. Returns how many were deleted.
    static func removeLeftovers(databasePath: String) -> Int {
        let slash = databasePath.lastIndex(of: "/")
        let directory = slash.map { $0 == databasePath.startIndex ? "/" : String(databasePath[..<$0]) } ?? "."
        let fileName = slash.map { String(databasePath[databasePath.index(after: $0)...]) } ?? databasePath
        let prefix = spoolPrefix(databasePath: fileName) + "imp_"
        guard let folder = opendir(directory) else { return 0 }
        defer { closedir(folder) }
        var removed = 0
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            // Exactly `<database>.imp_<id>.spool`, the id letters and digits: not `<database>.imp_x.db`'s spools.
            guard name.hasPrefix(prefix) && name.hasSuffix(".spool") && name.count > prefix.count + 6,
                name.dropFirst(prefix.count).dropLast(6).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            else { continue }
            if unlink(directory + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// Appends piece `seq`; the last piece again is acknowledged without appending (a retried write).
    func append(seq: Int64, _ data: [UInt8]) throws(RPCError) -> Int64 {
        touch()
        return try state.withLock { state throws(RPCError) -> Int64 in
            guard !state.finished else { throw RPCError(.conflict, "import '\(id)' is being committed") }
            if seq == state.nextSeq - 1 { return state.bytes }
            guard seq == state.nextSeq else {
                throw RPCError.invalidParams("expected seq \(state.nextSeq), got \(seq)", field: "seq")
            }
            let count = Int64(data.count)
            guard state.bytes + count <= TransferRegistry.maxSpoolBytes else {
                throw RPCError(.tooLarge, "an import is limited to \(TransferRegistry.maxSpoolBytes) bytes")
            }
            let written = data.withUnsafeBufferPointer { bytes in Self.writeAll(state.descriptor, bytes) }
            guard written else {
                throw RPCError(.unavailable, "cannot write the import spool: \(String(cString: strerror(errno)))")
            }
            state.nextSeq += 1
            state.bytes += count
            return state.bytes
        }
    }

    /// Closes the spool for reading; no more pieces are accepted.
    func finish() throws(RPCError) {
        try state.withLock { state throws(RPCError) in
            guard !state.finished else { throw RPCError(.conflict, "import '\(id)' is already being committed") }
            state.finished = true
            close(state.descriptor)
            state.descriptor = -1
        }
    }

    /// Removes the spool (after the commit, an abort, or expiry).
    func discard() {
        state.withLock { state in
            if state.descriptor >= 0 { close(state.descriptor) }
            state.descriptor = -1
            state.finished = true
        }
        unlink(path)
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}
