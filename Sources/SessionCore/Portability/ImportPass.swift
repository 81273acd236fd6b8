import BrokerProtocol
import SQLite

/// One reading of an import file: first to validate it all (nothing written), then to write it.
///
/// Both passes decode every record the same way, so whatever the write pass meets
/// was already checked by the validation pass; the write pass adds only what needs
/// the database (an id that already exists is a conflict, or skipped when merging).
final class ImportPass {
    let plan: ImportPlan
    /// The writer's connection in the write pass; nil while validating.
    let db: Connection?
    let counter: any TokenCounter
    var summary = ImportSummary()
    var version = PortableFormat.currentVersion
    private var declaredStats: JSONObject?
    /// Session ids of the file, mapped to their rowid (0 while validating); the new session's id for `.session`.
    private var sessions: [String: Int64] = [:]
    /// Each session's checkpoint version, and the versions its checkpoint records bring.
    private var wantedCheckpoint: [String: Int64] = [:]
    private var checkpoints: [String: Set<Int64>] = [:]
    private var lastSeq: [String: Int64] = [:]
    private var tasks: Set<String> = []
    private var newSessionId: String?
    /// Added to every event's seq (the target already has events), or nil to keep them.
    private var eventOffset: Int64?
    /// The sections whose tables held rows before the write pass, and the sessions it created.
    private var occupied: Set<PortableSection> = []
    private var insertedSessions: Set<Int64> = []
    private var insertedTasks: Set<String> = []
    private var insertedJobs: Set<String> = []
    private let now = Timestamp.now()

    init(plan: ImportPlan, db: Connection?, counter: any TokenCounter, newSessionId: String? = nil) {
        self.plan = plan
        self.db = db
        self.counter = counter
        self.newSessionId = newSessionId
    }

    var writing: Bool { db != nil }

    /// Reads the whole file; throws the first problem (`ImportProblem`), conflict (`RPCError`) or `SQLiteError`.
    func run() throws {
        try ImportDocument(path: plan.path, layout: plan.layout).read(header: header, record: record)
        try finish()
    }

    // MARK: header

    private func header(_ members: JSONObject, _ scanner: FileScanner) throws {
        func located(_ body: () throws -> Void) throws {
            do { try body() } catch var problem as ImportProblem {
                let place = scanner.problem("", at: 0, path: problem.path)
                (problem.byte, problem.line, problem.column) = (place.byte, place.line, place.column)
                throw problem
            }
        }
        try located {
            switch plan.kind {
            case .traces:
                guard members["type"]?.stringValue == "manifest" else {
                    throw ImportProblem(
                        "line 1 is not a trace-bundle manifest ({\"type\": \"manifest\", ...})", path: "type")
                }
                let bundle = try FormatMigrations.version(declared: members["version"], member: "version") ?? 1
                try FormatMigrations.check(
                    bundle, supported: PortableFormat.tracesVersion, what: "trace bundle", member: "version")
                version =
                    try FormatMigrations.version(
                        declared: members["recordFormatVersion"], member: "recordFormatVersion") ?? 1
                declaredStats = members["counts"]?.objectValue
            case .backup, .session:
                let expected = plan.kind == .backup ? PortableFormat.backup : PortableFormat.session
                if let format = members["format"], format.stringValue != expected {
                    let hint =
                        format.stringValue == PortableFormat.backup
                        ? "; import a backup with `brokerctl import`"
                        : format.stringValue == PortableFormat.session || format.stringValue == PortableFormat.packet
                            ? "; import a session with `brokerctl session import`" : ""
                    throw ImportProblem(
                        "this file's format is \(format.serializedString), not \"\(expected)\"\(hint)", path: "format")
                }
                version = try FormatMigrations.version(declared: members["formatVersion"], member: "formatVersion") ?? 1
                declaredStats = members["stats"]?.objectValue
            }
            try FormatMigrations.check(
                version, supported: PortableFormat.currentVersion, what: "format",
                member: plan.kind == .traces ? "recordFormatVersion" : "formatVersion")
        }
        summary.formatVersion = version
        if writing { try prepareWrite() }
    }

    // MARK: records

    private func record(_ record: ImportDocument.Record) throws {
        let upgraded = FormatMigrations.upgrade(record.object, record.section, from: version)
        let fields = RecordFields(
            record: ImportDocument.Record(
                section: record.section, index: record.index, object: upgraded, scanner: record.scanner,
                start: record.start))
        if plan.kind == .session && !PortableSection.ofSession.contains(record.section) {
            throw record.problem("a session document holds no \"\(record.section.rawValue)\"")
        }
        if upgraded["unrepresentable"] != nil { summary.unrepresentable += 1 }
        let stored: Bool
        switch record.section {
        case .sessions: stored = try session(fields)
        case .messages: stored = try message(fields)
        case .checkpoints: stored = try checkpoint(fields)
        case .compactions: stored = try compaction(fields)
        case .jobs: stored = try job(fields)
        case .tasks: stored = try task(fields)
        case .taskIterations: stored = try taskIteration(fields)
        case .events: stored = try event(fields)
        }
        if stored {
            summary.counts[record.section, default: 0] += 1
        } else {
            summary.skipped[record.section, default: 0] += 1
        }
    }

    /// The session a record belongs to, which must come earlier in the file (or, when merging, be in the broker).
    private func owner(_ fields: RecordFields) throws -> (id: String, rowID: Int64)? {
        let id = try fields.identifier("sessionId")
        if let rowID = sessions[id] { return (newSessionId ?? id, rowID) }
        if plan.kind == .traces, let db,
            let rowID = try existingRowID(db, "SELECT rowid FROM sessions WHERE id = ?", id)
        {
            sessions[id] = rowID
            return (id, rowID)
        }
        if plan.kind == .traces && !writing { return nil }  // may be in the broker: the write pass knows
        throw fields.problem("session \"\(id)\" is not in the file before this record", "sessionId")
    }

    private func session(_ f: RecordFields) throws -> Bool {
        let id = try f.identifier("id")
        if plan.kind == .session && !sessions.isEmpty {
            throw f.problem("a session document holds exactly one session", "id")
        }
        guard sessions[id] == nil else { throw f.problem("session \"\(id)\" appears twice", "id") }
        let type = try f.identifier("type"), featureId = try f.identifier("featureId")
        let taskId = try f.optionalString("taskId"), state = try f.identifier("state")
        let limit = try f.int("tokenLimit")
        guard Limits.tokenLimitRange.contains(limit) else {
            throw f.problem("\"tokenLimit\" must be within \(Limits.tokenLimitRange)", "tokenLimit")
        }
        let context = try document(f, "context"), agent = try document(f, "agentDescription")
        let createdAt = try f.time("createdAt"), updatedAt = try f.time("updatedAt")
        let firstActive = try f.int("firstActiveSeq", min: 1), checkpointVersion = try f.int("checkpointVersion")
        let compactions = try f.int("compactions"), saved = try f.int("tokensSaved")
        let lastMs = try f.optionalInt("lastCompactionMs"), lastAt = try f.optionalTime("lastCompactionAt")
        wantedCheckpoint[id] = checkpointVersion
        guard let db else {
            sessions[id] = 0
            return true
        }
        let storedId = newSessionId ?? id
        if plan.kind == .traces, let rowID = try existingRowID(db, "SELECT rowid FROM sessions WHERE id = ?", id) {
            sessions[id] = rowID
            wantedCheckpoint[id] = nil  // the broker's own checkpoint stays
            return false
        }
        let insert = try db.cached(
            """
            INSERT INTO sessions (id, type, feature_id, task_id, state, token_limit, context, agent_description,
            created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(storedId, type, featureId, taskId, state, limit, context, agent, createdAt)
        try insertOrConflict(insert, .sessions, id, f, "id")
        let rowID = db.lastInsertRowID
        sessions[id] = rowID
        insertedSessions.insert(rowID)
        let state2 = try db.cached(
            """
            INSERT INTO session_state (session, first_active_seq, checkpoint_version, compactions, tokens_saved,
            last_compaction_ms, last_compaction_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        state2.bindAll(rowID, firstActive, checkpointVersion, compactions, saved, lastMs, lastAt, updatedAt)
        try state2.run()
        if plan.kind == .session {
            summary.sessionId = storedId
            summary.source = "session"
        }
        return true
    }

    /// A context or agent description: an object or a string, at most 1 MiB serialized.
    private func document(_ f: RecordFields, _ key: String) throws -> String {
        guard let value = f.object[key], value.objectValue != nil || value.stringValue != nil else {
            throw f.problem("\"\(key)\" must be an object or a string", key)
        }
        let text = value.serializedString
        guard text.utf8.count <= Limits.documentBytes else {
            throw f.problem("\"\(key)\" is larger than \(Limits.documentBytes) bytes", key)
        }
        return text
    }

    private func message(_ f: RecordFields) throws -> Bool {
        let owner = try owner(f)
        let seq = try f.int("seq", min: 1)
        let messageId = try f.identifier("messageId")
        let role = try f.oneOf("role", Role.allCases.map(\.rawValue))
        let content = try f.string("content")
        let name = try f.optionalString("name"), toolCallId = try f.optionalString("toolCallId")
        let metadata = f.optionalJSON("metadata")
        let tokens = try f.optionalInt("tokens"), promptTokens = try f.optionalInt("promptTokens")
        let sessionTokens = try f.optionalInt("sessionTokens") ?? 0
        let createdAt = try f.time("createdAt")
        let sessionKey = try f.identifier("sessionId")
        if let last = lastSeq[sessionKey], seq <= last {
            throw f.problem("\"seq\" must increase within a session (\(seq) after \(last))", "seq")
        }
        lastSeq[sessionKey] = seq
        guard let db, let owner else { return true }
        // A session document becomes a new session: its messages get new ids too (ids are unique broker-wide).
        let storedId = plan.kind == .session ? Identifier.make("msg") : messageId
        if plan.kind == .traces,
            try existingRowID(db, "SELECT rowid FROM messages WHERE message_id = ?", messageId) != nil
        {
            return false
        }
        let insert = try db.cached(
            """
            INSERT INTO messages (session, seq, message_id, role,
            content, name, tool_call_id, metadata, tokens, session_tokens, created_at, prompt_tokens)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            owner.rowID, seq, storedId, role, content, name, toolCallId, metadata,
            tokens ?? Int64(MessageTokens.count(content: content, name: name, counter: counter)), sessionTokens,
            createdAt,
            promptTokens
                ?? Int64(
                    counter.count(
                        RequestLayout.messageBlock(role: role, content: content, name: name, toolCallId: toolCallId))))
        try insertOrConflict(insert, .messages, messageId, f, "messageId")
        return db.changes > 0
    }

    private func checkpoint(_ f: RecordFields) throws -> Bool {
        let owner = try owner(f)
        let version = try f.int("version", min: 1)
        let summary = try f.string("summary")
        let lists = try ["completed", "pending", "decisions", "blockers"].map { key throws in try f.strings(key) }
        let createdAt = try f.time("createdAt")
        let sessionKey = try f.identifier("sessionId")
        guard checkpoints[sessionKey, default: []].insert(version).inserted else {
            throw f.problem("checkpoint version \(version) of session \"\(sessionKey)\" appears twice", "version")
        }
        guard let db, let owner else { return true }
        let insert = try db.statement(
            """
            INSERT OR \(plan.kind == .traces ? "IGNORE" : "ABORT") INTO checkpoints (session, version, summary,
            completed, pending, decisions, blockers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(owner.rowID, version, summary, lists[0], lists[1], lists[2], lists[3], createdAt)
        try insertOrConflict(insert, .checkpoints, "\(sessionKey) v\(version)", f, "version")
        return db.changes > 0
    }

    private func compaction(_ f: RecordFields) throws -> Bool {
        let owner = try owner(f)
        let values: [Int64] = try [
            "checkpointVersion", "fromSeq", "throughSeq", "messageCount", "tokensBefore",
            "tokensAfter", "durationMs",
        ].map { key throws in try f.int(key) }
        let reason = try f.string("reason"), summarizer = try f.string("summarizer")
        let instructions = try f.optionalString("instructions"), createdAt = try f.time("createdAt")
        guard let db, let owner else { return true }
        let insert = try db.statement(
            """
            INSERT OR \(plan.kind == .traces ? "IGNORE" : "ABORT") INTO compactions (session, checkpoint_version,
            reason, summarizer, from_seq, through_seq, message_count, tokens_before, tokens_after, duration_ms,
            instructions, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            owner.rowID, values[0], reason, summarizer, values[1], values[2], values[3], values[4], values[5],
            values[6], instructions, createdAt)
        try insertOrConflict(
            insert, .compactions, "\(try f.identifier("sessionId")) v\(values[0])", f, "checkpointVersion")
        return db.changes > 0
    }

    private func job(_ f: RecordFields) throws -> Bool {
        let id = try f.identifier("id"), service = try f.identifier("service")
        let payload = try f.json("payload")
        let state = try f.oneOf("state", JobState.allCases.map(\.rawValue))
        let attempts = try f.int("attempts"), maxAttempts = try f.int("maxAttempts", min: 1)
        let timeoutMs = try f.int("timeoutMs"), deadlineAt = try f.time("deadlineAt")
        let worker = try f.optionalString("worker"), result = f.optionalJSON("result")
        let error = try f.optionalString("error"), createdAt = try f.time("createdAt")
        let startedAt = try f.optionalTime("startedAt"), finishedAt = try f.optionalTime("finishedAt")
        guard let db else { return true }
        let insert = try db.statement(
            """
            INSERT OR \(plan.kind == .traces ? "IGNORE" : "ABORT") INTO jobs (id, service, payload, state, attempts,
            max_attempts, timeout_ms, deadline_at, worker, result, error, created_at, started_at, finished_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            id, service, payload, state, attempts, maxAttempts, timeoutMs, deadlineAt, worker, result, error, createdAt,
            startedAt, finishedAt)
        try insertOrConflict(insert, .jobs, id, f, "id")
        guard db.changes > 0 else { return false }
        if plan.kind == .backup { insertedJobs.insert(id) }
        if state == JobState.queued.rawValue || state == JobState.running.rawValue,
            let record = try JobRows.load(db, id: id)
        {
            summary.unfinishedJobs.append(record)
        }
        return true
    }

    private func task(_ f: RecordFields) throws -> Bool {
        let id = try f.identifier("id"), featureId = try f.identifier("featureId")
        let title = try f.string("title"), description = try f.string("description")
        let checks = try f.json("checks"), dependsOn = try f.json("dependsOn")
        let workspace = f.optionalJSON("workspace")
        let state = try f.oneOf("state", TaskState.allCases.map(\.rawValue))
        let iteration = try f.int("iteration"), sessionsJSON = try f.json("sessions")
        let failure = try f.optionalString("failureReason")
        let createdAt = try f.time("createdAt"), updatedAt = try f.time("updatedAt")
        guard tasks.insert(id).inserted else { throw f.problem("task \"\(id)\" appears twice", "id") }
        guard let db else { return true }
        let insert = try db.statement(
            """
            INSERT OR \(plan.kind == .traces ? "IGNORE" : "ABORT") INTO tasks (id, feature_id, title, description,
            checks, depends_on, workspace, state, iteration, sessions, failure_reason, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            id, featureId, title, description, checks, dependsOn, workspace, state, iteration, sessionsJSON, failure,
            createdAt, updatedAt)
        try insertOrConflict(insert, .tasks, id, f, "id")
        if plan.kind == .backup && db.changes > 0 { insertedTasks.insert(id) }
        return db.changes > 0
    }

    private func taskIteration(_ f: RecordFields) throws -> Bool {
        let taskId = try f.identifier("taskId"), iteration = try f.int("iteration")
        let passed = try f.bool("passed"), results = try f.json("results"), at = try f.time("at")
        if !tasks.contains(taskId) {
            let known = try db.map { db throws in
                try existingRowID(db, "SELECT rowid FROM tasks WHERE id = ?", taskId) != nil
            }
            if known != true && !(plan.kind == .traces && !writing) {
                throw f.problem("task \"\(taskId)\" is not in the file before this iteration", "taskId")
            }
        }
        guard let db else { return true }
        let insert = try db.statement(
            """
            INSERT OR \(plan.kind == .traces ? "IGNORE" : "ABORT") INTO task_iterations (task, iteration, passed,
            results, at) VALUES (?, ?, ?, ?, ?)
            """)
        insert.bindAll(taskId, iteration, passed ? 1 : 0, results, at)
        try insertOrConflict(insert, .taskIterations, "\(taskId) #\(iteration)", f, "iteration")
        return db.changes > 0
    }

    private func event(_ f: RecordFields) throws -> Bool {
        let seq = try f.int("seq", min: 1), topic = try f.identifier("topic")
        let body = try f.json("body"), at = try f.time("at")
        guard let db else { return true }
        if plan.kind == .traces {
            let same = try db.cached("SELECT 1 FROM events WHERE seq = ? AND topic = ? AND at = ?")
            same.bindAll(seq, topic, at)
            defer { same.reset() }
            if try same.step() { return false }
        }
        let insert = try db.cached("INSERT INTO events (seq, topic, body, at) VALUES (?, ?, ?, ?)")
        var stored = seq
        var storedBody = body
        if let next = eventOffset {
            // Appended after the broker's own events: the body's `seq` follows, so replay agrees with it.
            stored = next
            eventOffset = next + 1
            if case .object(var object)? = f.object["body"], object["seq"] != nil {
                object["seq"] = .int(stored)
                storedBody = JSON.object(object).serializedString
            }
        }
        insert.bindAll(stored, topic, storedBody, at)
        try insertOrConflict(insert, .events, String(seq), f, "seq")
        return true
    }

    // MARK: writing

    /// Before the first write: `clear` empties the database; events are renumbered when some are kept.
    private func prepareWrite() throws {
        guard let db else { return }
        if plan.clear {
            for table in [
                "messages", "checkpoints", "compactions", "session_state", "sessions", "jobs", "task_iterations",
                "tasks", "events", "request_results",
            ] {
                try db.execute("DELETE FROM \(table)")
            }
        }
        for section in PortableSection.allCases {
            if try db.scalarInt("SELECT EXISTS (SELECT 1 FROM \(section.table))") == 1 { occupied.insert(section) }
        }
        let lastEvent = try db.scalarInt("SELECT COALESCE(MAX(seq), 0) FROM events") ?? 0
        if lastEvent > 0 || plan.kind == .traces { eventOffset = lastEvent + 1 }
    }

    /// Runs an insert; a unique-key clash is a conflict that names the record, or, when the clash is with
    /// an earlier record of the same file, a problem at this record (the file is corrupt).
    private func insertOrConflict(
        _ statement: Statement, _ section: PortableSection, _ id: String, _ f: RecordFields, _ member: String
    ) throws {
        do throws(SQLiteError) {
            try statement.run()
        } catch {
            guard error.isConstraintViolation else { throw error }
            if try clashIsWithinFile(section, f) {
                throw f.problem("\(section.rawValue) \"\(id)\" appears twice in the file", member)
            }
            let what =
                section == .sessions
                ? "session" : section == .messages ? "message" : String(section.rawValue.dropLast())
            throw RPCError(
                .conflict,
                "\(what) '\(id)' already exists in this broker (or twice in the file); nothing was imported. "
                    + "Import with --clear to replace the database",
                details: JSONObject([("section", .string(section.rawValue)), ("id", .string(id))]))
        }
    }

    /// Whether a clash is with a row this import wrote: certain when the table was empty before it, or
    /// when the row belongs to a session, task or job this import created (the broker had none of theirs).
    /// (Checked only after a clash, so validation needs no set of every message id in the file.)
    private func clashIsWithinFile(_ section: PortableSection, _ f: RecordFields) throws -> Bool {
        guard plan.kind == .backup, let db else { return false }
        if !occupied.contains(section) { return true }
        switch section {
        case .messages:
            let owner = try db.cached("SELECT session FROM messages WHERE message_id = ?")
            owner.bind(1, try f.identifier("messageId"))
            defer { owner.reset() }
            return try owner.step() && insertedSessions.contains(owner.int(0))
        case .checkpoints, .compactions:
            return sessions[try f.identifier("sessionId")].map(insertedSessions.contains) ?? false
        case .taskIterations: return insertedTasks.contains(try f.identifier("taskId"))
        case .jobs: return insertedJobs.contains(try f.identifier("id"))
        case .sessions, .tasks, .events: return false  // validation finds those twice in a file; events renumber
        }
    }

    private func existingRowID(_ db: Connection, _ sql: StaticString, _ id: String) throws -> Int64? {
        let select = try db.cached(sql)
        select.bind(1, id)
        defer { select.reset() }
        return try select.step() ? select.int(0) : nil
    }

    /// After the last record: the file's own counts must match, every session's checkpoint must be there,
    /// and the written sessions get their totals from their messages.
    private func finish() throws {
        if plan.kind == .session && sessions.isEmpty {
            throw ImportProblem("a session document holds exactly one session; this one holds none", path: "sessions")
        }
        if let declared = declaredStats {
            for section in PortableSection.allCases {
                guard let value = declared[section.rawValue]?.intValue else { continue }
                let found = (summary.counts[section] ?? 0) + (summary.skipped[section] ?? 0)
                if value != found {
                    throw ImportProblem(
                        "the header says \(value) \(section.rawValue) but the file holds \(found) (truncated or edited?)",
                        path: plan.kind == .traces ? "counts.\(section.rawValue)" : "stats.\(section.rawValue)")
                }
            }
        }
        for (id, version) in wantedCheckpoint where version > 0 && !(checkpoints[id]?.contains(version) ?? false) {
            throw ImportProblem(
                "session \"\(id)\" is at checkpoint version \(version) but the file has no such checkpoint",
                path: "sessions")
        }
        guard let db else { return }
        try recount(db, sessions: Array(sessions.values))
    }

    /// Message counts and token totals, from the rows; the fixed sections' tokens, from the documents.
    private func recount(_ db: Connection, sessions rowIDs: [Int64]) throws {
        let update = try db.cached(
            """
            UPDATE session_state SET
              next_seq = MAX(first_active_seq,
                COALESCE((SELECT MAX(seq) FROM messages m WHERE m.session = session_state.session), 0) + 1),
              message_count = (SELECT COUNT(*) FROM messages m WHERE m.session = session_state.session),
              total_tokens = (SELECT COALESCE(SUM(tokens), 0) FROM messages m WHERE m.session = session_state.session),
              active_count = (SELECT COUNT(*) FROM messages m WHERE m.session = session_state.session
                AND m.seq >= session_state.first_active_seq),
              active_tokens = (SELECT COALESCE(SUM(tokens), 0) FROM messages m WHERE m.session = session_state.session
                AND m.seq >= session_state.first_active_seq),
              active_prompt_tokens = (SELECT COALESCE(SUM(prompt_tokens), 0) FROM messages m
                WHERE m.session = session_state.session AND m.seq >= session_state.first_active_seq)
            WHERE session = ?
            """)
        let base = try db.cached("UPDATE session_state SET base_tokens = ? WHERE session = ?")
        let idOf = try db.cached("SELECT id FROM sessions WHERE rowid = ?")
        for rowID in rowIDs {
            // SQLite refuses bindings on a statement that has run and not been reset.
            defer { update.reset(); idOf.reset(); base.reset() }
            update.bind(1, rowID)
            try update.run()
            idOf.bind(1, rowID)
            guard try idOf.step() else { continue }
            let id = idOf.text(0)
            guard let record = try SessionRows.load(db, id: id) else { continue }
            let checkpoint =
                try CheckpointRows.load(db, session: record, version: record.checkpointVersion) ?? Checkpoint()
            base.bindAll(BaseSections(record: record, checkpoint: checkpoint, counter: counter).totalTokens, rowID)
            try base.run()
        }
    }
}
