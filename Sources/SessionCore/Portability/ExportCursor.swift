import BrokerProtocol
import SQLite

/// One export in progress: a read transaction on its own connection, and where the document has got to.
///
/// The transaction is one WAL snapshot, so the document is consistent while
/// the broker keeps committing; `read` writes the next piece of it, bounded in
/// bytes, so memory stays flat for any size of database. Not `Sendable`: it
/// owns an `sqlite3*`; the broker keeps it behind a lock.
public final class ExportCursor {
    public let request: ExportRequest
    /// Rows of each section in the snapshot, in document order (what the header's `stats` says).
    public private(set) var stats: [(section: PortableSection, count: Int64)] = []
    public private(set) var rows: Int64 = 0
    public private(set) var bytes: Int64 = 0
    public private(set) var unrepresentable: Int64 = 0
    public var done: Bool { next >= pieces.count }

    let db: Connection
    private var pieces: [Piece] = []
    private var next = 0

    /// What the document is made of: fixed text, or the rows of a query written one by one.
    enum Piece {
        case text([UInt8])
        case rows(RowPiece)
    }

    /// Rows of one query and how each is framed.
    final class RowPiece {
        let statement: Statement
        /// Written before every record but the first (`,` between the records of an array).
        let separator: [UInt8]
        /// Written around each record (a trace bundle's envelope).
        let prefix: [UInt8]
        let suffix: [UInt8]
        /// Writes the current row; returns whether it was flagged unrepresentable.
        let write: (Statement, ExportBuffer) -> Bool
        var written = 0

        init(
            _ statement: Statement, separator: String = "", prefix: String = "", suffix: String = "",
            write: @escaping (Statement, ExportBuffer) -> Bool
        ) {
            self.statement = statement
            self.separator = Array(separator.utf8)
            self.prefix = Array(prefix.utf8)
            self.suffix = Array(suffix.utf8)
            self.write = write
        }
    }

    /// Opens the snapshot and counts what it holds; `not_found` for an unknown session.
    public init(
        connection: Connection, request: ExportRequest, exportedBy: String, counter: any TokenCounter
    ) throws(RPCError) {
        db = connection
        self.request = request
        do {
            // One pass over each table: a page is read once, so a big cache would only hold memory
            // (the readers' 32 MiB) for as long as the export stays open.
            try db.execute("PRAGMA cache_size=-2048")
            try db.execute("BEGIN")
            let sections: [PortableSection]
            let filter: ExportFilter
            switch request {
            case .backup: (sections, filter) = (PortableSection.allCases, ExportFilter())
            case .traces(let traceFilter): (sections, filter) = (PortableSection.allCases, traceFilter)
            case .session(let id, _): (sections, filter) = (PortableSection.ofSession, ExportFilter(sessionId: id))
            }
            if let id = filter.sessionId, try SessionRows.load(db, id: id) == nil {
                throw RPCError.notFound("session", id)
            }
            var counted: [(PortableSection, Int64)] = []
            for section in sections {
                guard let query = ExportRecords.query(section, filter) else { continue }
                let count = try db.statement("SELECT COUNT(*) FROM (\(query.sql))")
                for (index, value) in query.binds.enumerated() { value.bind(to: count, at: Int32(index + 1)) }
                _ = try count.step()
                counted.append((section, count.int(0)))
            }
            stats = counted.map { (section: $0.0, count: $0.1) }
            let header = DocumentHeader(exportedBy: exportedBy, stats: stats)
            switch request {
            case .backup:
                pieces = try jsonDocument(format: PortableFormat.backup, header: header, filter: filter)
            case .traces(let traceFilter):
                pieces = try traceBundle(header: header, filter: traceFilter)
            case .session(_, .json):
                pieces = try jsonDocument(format: PortableFormat.session, header: header, filter: filter)
            case .session(let id, .markdown):
                pieces = try SessionMarkdown.pieces(sessionId: id, cursor: self)
            case .session(let id, .packet):
                pieces = [.text(try SessionPacket.build(sessionId: id, db: db, header: header).serialized)]
            }
        } catch let error as RPCError {
            close()
            throw error
        } catch let error as SQLiteError {
            close()
            throw SessionReader.internalError(error)
        } catch {
            close()
            throw RPCError(.internal, "export failed: \(error)")
        }
    }

    /// The rows the whole export will write.
    public var totalRows: Int64 { stats.reduce(0) { $0 + $1.count } }

    /// The next piece of the document, about `maxBytes` long (a record is never split; "" when done).
    public func read(maxBytes: Int) throws(RPCError) -> [UInt8] {
        let out = ExportBuffer(capacity: maxBytes + 64 * 1024)
        while next < pieces.count && out.count < maxBytes {
            switch pieces[next] {
            case .text(let text):
                out.json.rawBytes(text)
                next += 1
            case .rows(let piece):
                do {
                    while out.count < maxBytes {
                        guard try piece.statement.step() else {
                            piece.statement.reset()
                            next += 1
                            break
                        }
                        if piece.written > 0 { out.json.rawBytes(piece.separator) }
                        out.json.rawBytes(piece.prefix)
                        if piece.write(piece.statement, out) { unrepresentable += 1 }
                        out.json.rawBytes(piece.suffix)
                        piece.written += 1
                        rows += 1
                    }
                } catch {
                    throw SessionReader.internalError(error)
                }
            }
        }
        let text = out.take(capacity: 0)
        bytes += Int64(text.count)
        return text
    }

    /// Ends the snapshot (the WAL can then be checkpointed past it).
    public func close() {
        pieces.removeAll()
        db.resetAll()
        if db.inTransaction { try? db.execute("COMMIT") }
    }

    /// A prepared statement for `section` under `filter`, or nil when the section is left out.
    func statement(_ section: PortableSection, _ filter: ExportFilter) throws(SQLiteError) -> Statement? {
        guard let query = ExportRecords.query(section, filter) else { return nil }
        let statement = try db.statement(query.sql)
        for (index, value) in query.binds.enumerated() { value.bind(to: statement, at: Int32(index + 1)) }
        return statement
    }
}
