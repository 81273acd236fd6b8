import BrokerProtocol
import SQLite

extension SessionWriter {
    func createSession(_ create: CreateSession) throws(CommandError) -> [UInt8] {
        let id = create.sessionId ?? Identifier.make("ses")
        if create.sessionId != nil, let existing = try? session(id) {
            // A retried create returns the session it made the first time; a different session under
            // the same id is a conflict, never an overwrite.
            guard existing.type == create.type, existing.featureId == create.featureId,
                existing.taskId == create.taskId
            else {
                throw .rpc(RPCError(.conflict, "session '\(id)' already exists with other attributes"))
            }
            return JSON.object(existing.summaryJSON).serialized
        }
        var record = SessionRecord(
            rowID: 0, id: id, type: create.type, featureId: create.featureId, taskId: create.taskId,
            state: create.state, tokenLimit: create.tokenLimit ?? defaultTokenLimit,
            context: create.context.serializedString, agentDescription: create.agentDescription.serializedString,
            nextSeq: 1, firstActiveSeq: 1, messageCount: 0, activeCount: 0, totalTokens: 0, activeTokens: 0,
            checkpointVersion: 0, compactions: 0, tokensSaved: 0, lastCompactionMs: nil, lastCompactionAt: nil,
            activePromptTokens: 0, baseTokens: 0, createdAt: now, updatedAt: now)
        record.baseTokens = BaseSections(record: record, checkpoint: Checkpoint(), counter: counter).totalTokens
        let insert = try sql(
            """
            INSERT INTO sessions (id, type, feature_id, task_id, state, token_limit, context, agent_description,
            created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            record.id, record.type, record.featureId, record.taskId, record.state, record.tokenLimit,
            record.context, record.agentDescription, now)
        try run(insert)
        record.rowID = db.lastInsertRowID
        let state = try sql("INSERT INTO session_state (session, updated_at, base_tokens) VALUES (?, ?, ?)")
        state.bindAll(record.rowID, now, record.baseTokens)
        try run(state)
        try emit(
            Topic.sessionCreated,
            JSONObject([
                ("sessionId", .string(id)), ("type", .string(record.type)), ("featureId", .string(record.featureId)),
                ("taskId", .optional(record.taskId)), ("state", .string(record.state)),
            ]))
        setCached(id, record)
        return JSON.object(record.summaryJSON).serialized
    }

    enum DocumentColumn { case context, agentDescription }

    func setDocument(_ set: SetDocument, column: DocumentColumn) throws(CommandError) -> [UInt8] {
        var record = try session(set.sessionId)
        let field = column == .context ? "context" : "agentDescription"
        switch column {
        case .context: record.context = set.value.serializedString
        case .agentDescription: record.agentDescription = set.value.serializedString
        }
        record.baseTokens =
            BaseSections(record: record, checkpoint: try currentCheckpoint(record), counter: counter).totalTokens
        record.updatedAt = now
        let update = try sql("UPDATE sessions SET context = ?, agent_description = ? WHERE rowid = ?")
        update.bindAll(record.context, record.agentDescription, record.rowID)
        try run(update)
        try emit(Topic.sessionUpdated, JSONObject([("sessionId", .string(record.id)), ("field", .string(field))]))
        store(record)
        return JSON.object(
            JSONObject([
                ("sessionId", .string(record.id)), (field, set.value),
                ("updatedAt", .string(Timestamp.iso8601(now))),
            ])
        ).serialized
    }

    func clearMessages(_ action: SessionAction, reason: String) throws(CommandError) -> [UInt8] {
        var record = try session(action.sessionId)
        let archived = record.activeCount
        let fromSeq = record.firstActiveSeq
        record.firstActiveSeq = record.nextSeq
        record.activeCount = 0
        record.activeTokens = 0
        record.activePromptTokens = 0
        record.updatedAt = now
        try emit(
            Topic.sessionCleared,
            JSONObject([
                ("sessionId", .string(record.id)), ("archivedCount", .int(archived)), ("reason", .string(reason)),
            ]))
        store(record)
        return JSON.object(
            JSONObject([
                ("sessionId", .string(record.id)), ("archivedCount", .int(archived)),
                ("fromSeq", .int(fromSeq)), ("toSeq", .int(record.nextSeq - 1)),
            ])
        ).serialized
    }

    /// Archives every message and starts a new, empty checkpoint version; context and agent description stay.
    func reset(_ action: SessionAction) throws(CommandError) -> [UInt8] {
        let cleared = try clearMessages(action, reason: "reset")
        let record = try session(action.sessionId)
        let checkpoint = try writeCheckpoint(Checkpoint(version: record.checkpointVersion + 1), for: record)
        var object = (try? JSONParser.parse(cleared))?.objectValue ?? JSONObject()
        object["checkpointVersion"] = .int(checkpoint.version)
        return JSON.object(object).serialized
    }

    func delete(_ action: SessionAction) throws(CommandError) -> [UInt8] {
        let record = try session(action.sessionId)
        for table in ["messages", "checkpoints", "compactions", "session_state"] {
            let delete = try dynamicSQL("DELETE FROM \(table) WHERE session = ?")
            delete.bind(1, record.rowID)
            try run(delete)
        }
        let deleteSession = try sql("DELETE FROM sessions WHERE rowid = ?")
        deleteSession.bind(1, record.rowID)
        try run(deleteSession)
        try emit(Topic.sessionDeleted, JSONObject([("sessionId", .string(record.id))]))
        setCached(record.id, nil)
        return JSON.object(
            JSONObject([
                ("sessionId", .string(record.id)), ("deleted", true), ("messagesDeleted", .int(record.messageCount)),
            ])
        ).serialized
    }
}
