import SQLite

/// The query and the record writer of each section: one row in, one record of the portable format out.
///
/// Records name sessions and tasks by their ids, never by rowids, so they mean the
/// same thing in any database; every order is stable (rowid or key), so two exports
/// of the same data are byte-identical apart from `exportedAt`.
enum ExportRecords {
    /// A value bound to a query's parameter.
    enum QueryValue {
        case text(String)
        case int(Int64)

        func bind(to statement: Statement, at index: Int32) {
            switch self {
            case .text(let value): statement.bind(index, value)
            case .int(let value): statement.bind(index, value)
            }
        }
    }

    /// The SQL for `section` under `filter` (nil: the section is left out), and the values to bind.
    static func query(_ section: PortableSection, _ filter: ExportFilter) -> (sql: String, binds: [QueryValue])? {
        var conditions: [String] = []
        var binds: [QueryValue] = []
        func add(_ condition: String, _ value: QueryValue) {
            conditions.append(condition)
            binds.append(value)
        }
        let since = filter.since.map(QueryValue.int)
        let base: String
        let order: String
        switch section {
        case .sessions:
            base = """
                SELECT s.id, s.type, s.feature_id, s.task_id, s.state, s.token_limit, s.context, s.agent_description,
                s.created_at, t.updated_at, t.first_active_seq, t.checkpoint_version, t.compactions, t.tokens_saved,
                t.last_compaction_ms, t.last_compaction_at FROM sessions s JOIN session_state t ON t.session = s.rowid
                """
            order = "s.rowid"
            if let id = filter.sessionId { add("s.id = ?", .text(id)) }
            if let since {
                conditions.append("(s.created_at >= ? OR t.updated_at >= ?)")
                binds += [since, since]
            }
        case .messages:
            base = """
                SELECT s.id, m.seq, m.message_id, m.role, m.content, m.name, m.tool_call_id, m.metadata, m.tokens,
                m.prompt_tokens, m.session_tokens, m.created_at, m.seq < t.first_active_seq
                FROM messages m JOIN sessions s ON s.rowid = m.session JOIN session_state t ON t.session = m.session
                """
            order = "m.session, m.seq"
            if let id = filter.sessionId { add("s.id = ?", .text(id)) }
            if let since { add("m.created_at >= ?", since) }
        case .checkpoints:
            base = """
                SELECT s.id, c.version, c.summary, c.completed, c.pending, c.decisions, c.blockers, c.created_at
                FROM checkpoints c JOIN sessions s ON s.rowid = c.session
                """
            order = "c.session, c.version"
            if let id = filter.sessionId { add("s.id = ?", .text(id)) }
            if let since { add("c.created_at >= ?", since) }
        case .compactions:
            base = """
                SELECT s.id, c.checkpoint_version, c.reason, c.summarizer, c.from_seq, c.through_seq, c.message_count,
                c.tokens_before, c.tokens_after, c.duration_ms, c.instructions, c.created_at
                FROM compactions c JOIN sessions s ON s.rowid = c.session
                """
            order = "c.session, c.checkpoint_version"
            if let id = filter.sessionId { add("s.id = ?", .text(id)) }
            if let since { add("c.created_at >= ?", since) }
        case .jobs:
            if filter.sessionId != nil { return nil }
            base = """
                SELECT id, service, payload, state, attempts, max_attempts, timeout_ms, deadline_at, worker, result,
                error, created_at, started_at, finished_at FROM jobs
                """
            order = "created_at, id"
            if let since { add("created_at >= ?", since) }
        case .tasks:
            if filter.sessionId != nil { return nil }
            base = """
                SELECT id, feature_id, title, description, checks, depends_on, workspace, state, iteration, sessions,
                failure_reason, created_at, updated_at FROM tasks
                """
            order = "rowid"
            if let since { add("updated_at >= ?", since) }
        case .taskIterations:
            if filter.sessionId != nil { return nil }
            base = "SELECT task, iteration, passed, results, at FROM task_iterations"
            order = "task, iteration"
            if let since { add("at >= ?", since) }
        case .events:
            base = "SELECT seq, topic, body, at FROM events"
            order = "seq"
            // An event belongs to a session when its body names it; a body that is not JSON names none.
            if let id = filter.sessionId {
                add("CASE WHEN json_valid(body) THEN json_extract(body, '$.sessionId') END = ?", .text(id))
            }
            if let since { add("at >= ?", since) }
        }
        var sql = base
        if !conditions.isEmpty {
            sql += " WHERE " + conditions.joined(separator: " AND ")
        }
        return (sql + " ORDER BY " + order, binds)
    }

    /// Writes the record of `section` for the current row of a statement made from `query`.
    static func write(_ section: PortableSection, _ row: Statement, to out: ExportBuffer) -> Bool {
        out.begin()
        switch section {
        case .sessions:
            out.text("id", row, 0)
            out.text("type", row, 1)
            out.text("featureId", row, 2)
            out.text("taskId", row, 3, optional: true)
            out.text("state", row, 4)
            out.int("tokenLimit", row.int(5))
            out.storedJSON("context", row, 6)
            out.storedJSON("agentDescription", row, 7)
            out.time("createdAt", row.int(8))
            out.time("updatedAt", row.int(9))
            out.int("firstActiveSeq", row.int(10))
            out.int("checkpointVersion", row.int(11))
            out.int("compactions", row.int(12))
            out.int("tokensSaved", row.int(13))
            out.optionalInt("lastCompactionMs", row, 14)
            out.optionalTime("lastCompactionAt", row, 15)
        case .messages:
            out.text("sessionId", row, 0)
            out.int("seq", row.int(1))
            out.text("messageId", row, 2)
            out.text("role", row, 3)
            out.text("content", row, 4)
            out.text("name", row, 5, optional: true)
            out.text("toolCallId", row, 6, optional: true)
            out.storedJSON("metadata", row, 7, optional: true)
            out.int("tokens", row.int(8))
            out.optionalInt("promptTokens", row, 9)
            out.int("sessionTokens", row.int(10))
            out.time("createdAt", row.int(11))
            out.bool("archived", row.int(12) != 0)
        case .checkpoints:
            out.text("sessionId", row, 0)
            out.int("version", row.int(1))
            out.text("summary", row, 2)
            out.storedJSON("completed", row, 3)
            out.storedJSON("pending", row, 4)
            out.storedJSON("decisions", row, 5)
            out.storedJSON("blockers", row, 6)
            out.time("createdAt", row.int(7))
        case .compactions:
            out.text("sessionId", row, 0)
            out.int("checkpointVersion", row.int(1))
            out.text("reason", row, 2)
            out.text("summarizer", row, 3)
            out.int("fromSeq", row.int(4))
            out.int("throughSeq", row.int(5))
            out.int("messageCount", row.int(6))
            out.int("tokensBefore", row.int(7))
            out.int("tokensAfter", row.int(8))
            out.int("durationMs", row.int(9))
            out.text("instructions", row, 10, optional: true)
            out.time("createdAt", row.int(11))
        case .jobs:
            out.text("id", row, 0)
            out.text("service", row, 1)
            out.storedJSON("payload", row, 2)
            out.text("state", row, 3)
            out.int("attempts", row.int(4))
            out.int("maxAttempts", row.int(5))
            out.int("timeoutMs", row.int(6))
            out.time("deadlineAt", row.int(7))
            out.text("worker", row, 8, optional: true)
            out.storedJSON("result", row, 9, optional: true)
            out.text("error", row, 10, optional: true)
            out.time("createdAt", row.int(11))
            out.optionalTime("startedAt", row, 12)
            out.optionalTime("finishedAt", row, 13)
        case .tasks:
            out.text("id", row, 0)
            out.text("featureId", row, 1)
            out.text("title", row, 2)
            out.text("description", row, 3)
            out.storedJSON("checks", row, 4)
            out.storedJSON("dependsOn", row, 5)
            out.storedJSON("workspace", row, 6, optional: true)
            out.text("state", row, 7)
            out.int("iteration", row.int(8))
            out.storedJSON("sessions", row, 9)
            out.text("failureReason", row, 10, optional: true)
            out.time("createdAt", row.int(11))
            out.time("updatedAt", row.int(12))
        case .taskIterations:
            out.text("taskId", row, 0)
            out.int("iteration", row.int(1))
            out.bool("passed", row.int(2) != 0)
            out.storedJSON("results", row, 3)
            out.time("at", row.int(4))
        case .events:
            out.int("seq", row.int(0))
            out.text("topic", row, 1)
            out.storedJSON("body", row, 2)
            out.time("at", row.int(3))
        }
        return out.end()
    }
}
