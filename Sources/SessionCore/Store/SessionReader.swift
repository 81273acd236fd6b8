import BrokerProtocol
import SQLite

/// Answers read requests from its own connection; one per reader thread.
///
/// WAL gives each read a consistent snapshot that includes every commit
/// acknowledged before it started, while the writer keeps writing.
/// Not `Sendable`: it owns an `sqlite3*`.
public final class SessionReader {
    let db: Connection
    let estimator: TokenEstimator
    /// The size at which a page of messages stops taking more (it always holds at least one).
    let maxPageBytes: Int
    /// The conversation heading's tokens with this reader's counter.
    let conversationHeadingTokens: Int64
    /// When both are set, building a request for a session due for compaction calls `onCompactionDue`.
    public var compactionPolicy: CompactionPolicy?
    public var onCompactionDue: (@Sendable (String) -> Void)?

    public init(connection: Connection, counter: any TokenCounter, maxPageBytes: Int = 32 << 20) {
        db = connection
        estimator = TokenEstimator(counter: counter)
        self.maxPageBytes = maxPageBytes
        conversationHeadingTokens = Int64(counter.count(RequestLayout.conversationHeading))
    }

    /// Ends any read left open by the last request (see `Connection.resetAll`).
    public func finish() {
        db.resetAll()
        if db.inTransaction { try? db.execute("COMMIT") }
    }

    /// Runs `body` in one read transaction so multi-query answers are consistent.
    func snapshot<T>(_ body: () throws(RPCError) -> T) throws(RPCError) -> T {
        do { try db.statement("BEGIN").run() } catch { throw Self.internalError(error) }
        defer { try? db.statement("COMMIT").run() }
        return try body()
    }

    func session(_ id: String) throws(RPCError) -> SessionRecord {
        let loaded: SessionRecord?
        do { loaded = try SessionRows.load(db, id: id) } catch { throw Self.internalError(error) }
        guard let record = loaded else { throw .notFound("session", id) }
        return record
    }

    static func internalError(_ error: SQLiteError) -> RPCError {
        RPCError(error.isBusy ? .unavailable : .internal, "database error: \(error.message)")
    }

    /// `session:get`.
    public func getSession(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId"])
        let id = try params.identifier("sessionId")
        return JSON.object(try session(id).detailJSON).serialized
    }

    /// `session:getContext`.
    public func getContext(_ params: Params) throws(RPCError) -> [UInt8] {
        try document(params, field: "context") { $0.context }
    }

    /// `session:getAgentDescription`.
    public func getAgentDescription(_ params: Params) throws(RPCError) -> [UInt8] {
        try document(params, field: "agentDescription") { $0.agentDescription }
    }

    private func document(_ params: Params, field: String, _ pick: (SessionRecord) -> String) throws(RPCError)
        -> [UInt8]
    {
        try params.requireOnly(["sessionId"])
        let record = try session(try params.identifier("sessionId"))
        var writer = JSONWriter()
        writer.raw("{\"sessionId\":")
        writer.string(record.id)
        writer.comma()
        writer.key(field)
        writer.rawBytes(pick(record).utf8)
        writer.raw("}")
        return writer.bytes
    }

    /// `session:getCheckpoint`.
    public func getCheckpoint(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId", "version"])
        let id = try params.identifier("sessionId")
        let version = try params.optionalInt("version", range: 0...Int64.max)
        return try snapshot { () throws(RPCError) in
            let record = try session(id)
            let wanted = version ?? record.checkpointVersion
            let checkpoint: Checkpoint?
            do throws(SQLiteError) {
                checkpoint = try CheckpointRows.load(db, session: record, version: wanted)
            } catch {
                throw Self.internalError(error)
            }
            guard let checkpoint, wanted <= record.checkpointVersion else {
                throw RPCError(
                    .notFound, "session '\(id)' has no checkpoint version \(wanted)",
                    details: JSONObject([("currentVersion", .int(record.checkpointVersion))]))
            }
            return checkpoint.json(sessionId: id).serialized
        }
    }

    /// `session:estimateSize`: the tokens a request built now would hold, from stored counts.
    public func estimateSize(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId"])
        let id = try params.identifier("sessionId")
        return try snapshot { () throws(RPCError) in
            let record = try session(id)
            let checkpoint: Checkpoint
            do throws(SQLiteError) {
                checkpoint =
                    try CheckpointRows.load(db, session: record, version: record.checkpointVersion)
                    ?? Checkpoint()
            } catch { throw Self.internalError(error) }
            let contextTokens = Int64(estimator.estimate(record.context))
            let agentTokens = Int64(estimator.estimate(record.agentDescription))
            let checkpointTokens = Int64(estimator.estimateCheckpoint(checkpoint))
            let total = record.activeTokens + contextTokens + agentTokens + checkpointTokens
            return JSON.object(
                JSONObject([
                    ("sessionId", .string(id)), ("tokens", .int(total)), ("messageTokens", .int(record.activeTokens)),
                    ("checkpointTokens", .int(checkpointTokens)), ("contextTokens", .int(contextTokens)),
                    ("agentDescriptionTokens", .int(agentTokens)), ("messageCount", .int(record.activeCount)),
                    ("tokenLimit", .int(record.tokenLimit)), ("exact", .bool(estimator.isExact)),
                ])
            ).serialized
        }
    }
}
