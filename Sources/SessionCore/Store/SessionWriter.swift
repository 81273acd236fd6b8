import BrokerProtocol
import SQLite

/// The only code that writes the database; lives on the broker's writer thread.
///
/// Commands run in batches: `beginBatch`, any number of `apply`, then
/// `commitBatch` (group commit: one transaction, one sync, for every write
/// queued meanwhile). A command that fails leaves nothing behind while the
/// others in its batch commit (see `apply`).
/// Session rows are cached here and written once per batch; the cache is
/// dropped whenever a batch rolls back, so it never disagrees with the file.
/// Not `Sendable`: it owns an `sqlite3*`.
public final class SessionWriter {
    let db: Connection
    let counter: any TokenCounter
    let defaultTokenLimit: Int64
    var cache: [String: SessionRecord] = [:]
    var dirty: Set<String> = []
    var nextEventSeq: Int64
    var events: [Event] = []
    /// Cache entries as they were before the running command changed them, to restore on its rollback.
    var undo: [(id: String, record: SessionRecord?)] = []
    /// The batch's start time: every write in a batch shares one timestamp.
    var now: EpochMillis = 0
    /// When set, sessions that become due for compaction are collected in `compactionCandidates`.
    public var compactionPolicy: CompactionPolicy?
    /// Sessions of this batch due for an automatic compaction; handed over after the commit.
    var compactionCandidates: Set<String> = []
    /// Jobs queued or cancelled in this batch, for the dispatcher; handed over after the commit.
    var jobNotices: [JobNotice] = []

    public init(connection: Connection, counter: any TokenCounter, defaultTokenLimit: Int64) throws(SQLiteError) {
        db = connection
        self.counter = counter
        self.defaultTokenLimit = defaultTokenLimit
        nextEventSeq = (try db.scalarInt("SELECT COALESCE(MAX(seq), 0) FROM events") ?? 0) + 1
    }

    /// Opens the batch's transaction.
    public func beginBatch() throws(SQLiteError) {
        now = Timestamp.now()
        try db.cached("BEGIN IMMEDIATE").run()
    }

    /// Runs one command and returns its serialized result or its error.
    ///
    /// Commands report client errors (`RPCError`: unknown session, conflict) before
    /// their first write, so a refused command leaves nothing behind without the
    /// cost of a savepoint per command; the change counter checks that promise,
    /// and a command that broke it sinks its batch rather than commit half a write.
    /// A database error is rethrown: the caller must roll back the whole batch.
    public func apply(_ command: WriteCommand) throws(SQLiteError) -> Result<[UInt8], RPCError> {
        let eventMark = events.count
        let noticeMark = jobNotices.count
        let seqMark = nextEventSeq
        let changesMark = db.totalChanges
        undo.removeAll(keepingCapacity: true)
        do throws(CommandError) {
            return .success(try runIdempotent(command))
        } catch {
            events.removeSubrange(eventMark...)
            jobNotices.removeSubrange(noticeMark...)
            nextEventSeq = seqMark
            for entry in undo.reversed() { cache[entry.id] = entry.record }
            switch error {
            case .rpc(let rpcError):
                guard db.totalChanges == changesMark else {
                    throw SQLiteError(code: -1, message: "\(command.methodName) failed after writing: \(rpcError)")
                }
                return .failure(rpcError)
            case .sqlite(let sqliteError):
                throw sqliteError
            }
        }
    }

    /// Writes the cached session rows the batch changed, commits, and hands back its events.
    public func commitBatch() throws(SQLiteError) -> [Event] {
        for id in dirty {
            if let record = cache[id] { try writeSessionRow(record) }
        }
        db.resetAll()
        try db.cached("COMMIT").run()
        dirty.removeAll(keepingCapacity: true)
        // Bound the cache; every row is on disk now, so dropping entries loses nothing.
        if cache.count > 50_000 { cache.removeAll() }
        let committed = events
        events.removeAll(keepingCapacity: true)
        return committed
    }

    /// Sessions the last committed batch made due for compaction (see `compactionPolicy`).
    public func takeCompactionCandidates() -> Set<String> {
        defer { compactionCandidates.removeAll(keepingCapacity: true) }
        return compactionCandidates
    }

    /// Collects `record` if it is due for an automatic compaction.
    func noteCompactionCandidate(_ record: SessionRecord) {
        if let policy = compactionPolicy, policy.isDue(record, now: now) { compactionCandidates.insert(record.id) }
    }

    /// Abandons the batch after a database error and forgets every cached row.
    public func rollbackBatch() {
        if db.inTransaction { try? db.execute("ROLLBACK") }
        cache.removeAll()
        dirty.removeAll()
        events.removeAll()
        compactionCandidates.removeAll()
        jobNotices.removeAll()
        nextEventSeq = ((try? db.scalarInt("SELECT COALESCE(MAX(seq), 0) FROM events")) ?? 0) + 1
    }

    private func runIdempotent(_ command: WriteCommand) throws(CommandError) -> [UInt8] {
        guard let requestId = command.requestId else { return try run(command) }
        // The same requestId on another method or session is a client bug, not a retry.
        let scope = "\(command.methodName) \(command.subjectId ?? "")"
        let lookup = try sql("SELECT method, result FROM request_results WHERE request_id = ?")
        lookup.bind(1, requestId)
        if try step(lookup) {
            guard lookup.text(0) == scope else {
                throw .rpc(
                    RPCError(
                        .conflict, "requestId '\(requestId)' was already used for \(lookup.text(0))",
                        details: JSONObject([("requestId", .string(requestId))])))
            }
            return Array(lookup.text(1).utf8)
        }
        let result = try run(command)
        let insert = try sql("INSERT INTO request_results (request_id, method, result, at) VALUES (?, ?, ?, ?)")
        insert.bind(1, requestId)
        insert.bind(2, scope)
        insert.bind(3, String(decoding: result, as: UTF8.self))
        insert.bind(4, now)
        try run(insert)
        return result
    }

    private func run(_ command: WriteCommand) throws(CommandError) -> [UInt8] {
        switch command {
        case .createSession(let create): try createSession(create)
        case .addMessage(let add): try addMessage(add)
        case .updateCheckpoint(let update): try updateCheckpoint(update)
        case .setContext(let set): try setDocument(set, column: .context)
        case .setAgentDescription(let set): try setDocument(set, column: .agentDescription)
        case .clearMessages(let action): try clearMessages(action, reason: "clear")
        case .reset(let action): try reset(action)
        case .delete(let action): try delete(action)
        case .applyCompaction(let swap): try applyCompaction(swap)
        case .emitEvent(let topic, let fields): try emitOnly(topic, fields)
        case .submitJob(let submit): try submitJob(submit)
        case .cancelJob(let cancel): try cancelJob(cancel)
        case .jobTransition(let transition): try applyJobTransition(transition)
        case .createTask(let create): try createTask(create)
        case .updateTask(let update): try updateTask(update)
        case .recordIteration(let record): try recordIteration(record)
        case .importFile:
            // Needs a transaction of its own: the writer thread calls `runImport` between batches.
            throw .rpc(RPCError(.internal, "an import cannot run inside a batch"))
        }
    }

    private func emitOnly(_ topic: String, _ fields: JSONObject) throws(CommandError) -> [UInt8] {
        try emit(topic, fields)
        return Array("{}".utf8)
    }

    /// Records an event of this batch; it is persisted now and published after the commit.
    func emit(_ topic: String, _ fields: JSONObject) throws(CommandError) {
        let seq = nextEventSeq
        let body = Event.body(seq: seq, topic: topic, at: now, fields: fields)
        let insert = try sql("INSERT INTO events (seq, topic, body, at) VALUES (?, ?, ?, ?)")
        insert.bind(1, seq)
        insert.bind(2, topic)
        insert.bind(3, String(decoding: body, as: UTF8.self))
        insert.bind(4, now)
        try run(insert)
        nextEventSeq += 1
        events.append(Event(seq: seq, topic: topic, body: body))
    }
}

/// What a command can fail with: a client error, or a database error that sinks the batch.
enum CommandError: Error {
    case rpc(RPCError)
    case sqlite(SQLiteError)
}

extension SessionWriter {
    func sql(_ text: StaticString) throws(CommandError) -> Statement {
        do { return try db.cached(text) } catch { throw .sqlite(error) }
    }

    /// For SQL built at run time (rare on this path).
    func dynamicSQL(_ text: String) throws(CommandError) -> Statement {
        do { return try db.statement(text) } catch { throw .sqlite(error) }
    }

    func step(_ statement: Statement) throws(CommandError) -> Bool {
        do { return try statement.step() } catch { throw .sqlite(error) }
    }

    func run(_ statement: Statement) throws(CommandError) {
        do { try statement.run() } catch { throw .sqlite(error) }
    }
}

extension WriteCommand {
    /// The session, job or task a command acts on (nil for creates, whose id may not exist yet);
    /// a requestId is scoped to it, so reusing one on another subject is refused, not replayed.
    var subjectId: String? {
        switch self {
        case .createSession: nil
        case .addMessage(let command): command.sessionId
        case .updateCheckpoint(let command): command.sessionId
        case .setContext(let command), .setAgentDescription(let command): command.sessionId
        case .clearMessages(let command), .reset(let command), .delete(let command): command.sessionId
        case .applyCompaction(let swap): swap.sessionId
        case .cancelJob(let command): command.jobId
        case .jobTransition(let command): command.jobId
        case .updateTask(let command): command.taskId
        case .recordIteration(let command): "\(command.taskId) \(command.iteration)"
        case .emitEvent, .submitJob, .createTask, .importFile: nil
        }
    }

    var methodName: String {
        switch self {
        case .createSession: "session:create"
        case .addMessage: "session:addMessage"
        case .updateCheckpoint: "session:updateCheckpoint"
        case .setContext: "session:setContext"
        case .setAgentDescription: "session:setAgentDescription"
        case .clearMessages: "session:clearMessages"
        case .reset: "session:reset"
        case .delete: "session:delete"
        case .applyCompaction: "session:compact"
        case .emitEvent: "event:emit"
        case .submitJob: "job:submit"
        case .cancelJob: "job:cancel"
        case .jobTransition: "job:transition"
        case .createTask: "task:create"
        case .updateTask: "task:update"
        case .recordIteration: "task:recordIteration"
        case .importFile: "import:commit"
        }
    }
}
