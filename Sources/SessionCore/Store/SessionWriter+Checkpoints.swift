import BrokerProtocol
import SQLite

extension SessionWriter {
    func updateCheckpoint(_ update: UpdateCheckpoint) throws(CommandError) -> [UInt8] {
        let record = try session(update.sessionId)
        if let expected = update.expectedVersion, expected != record.checkpointVersion {
            throw .rpc(
                RPCError(
                    .conflict,
                    "checkpoint of session '\(record.id)' is at version \(record.checkpointVersion), not \(expected)",
                    details: JSONObject([("currentVersion", .int(record.checkpointVersion))])))
        }
        let current = try currentCheckpoint(record)
        let next = Checkpoint(
            version: record.checkpointVersion + 1, summary: update.summary ?? current.summary,
            completed: update.completed ?? current.completed, pending: update.pending ?? current.pending,
            decisions: update.decisions ?? current.decisions, blockers: update.blockers ?? current.blockers)
        let written = try writeCheckpoint(next, for: record)
        return written.json(sessionId: record.id).serialized
    }

    /// Inserts `checkpoint` as the session's newest version and announces it.
    func writeCheckpoint(_ checkpoint: Checkpoint, for original: SessionRecord) throws(CommandError) -> Checkpoint {
        var record = try session(original.id)
        var checkpoint = checkpoint
        checkpoint.updatedAt = now
        let insert = try sql(
            """
            INSERT INTO checkpoints (session, version, summary, completed, pending, decisions, blockers, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            record.rowID, checkpoint.version, checkpoint.summary, encodeList(checkpoint.completed),
            encodeList(checkpoint.pending), encodeList(checkpoint.decisions), encodeList(checkpoint.blockers), now)
        try run(insert)
        record.checkpointVersion = checkpoint.version
        record.baseTokens = BaseSections(record: record, checkpoint: checkpoint, counter: counter).totalTokens
        record.updatedAt = now
        try emit(
            Topic.checkpointUpdated,
            JSONObject([
                ("sessionId", .string(record.id)), ("version", .int(checkpoint.version)),
            ]))
        store(record)
        return checkpoint
    }

    func currentCheckpoint(_ record: SessionRecord) throws(CommandError) -> Checkpoint {
        do {
            return try CheckpointRows.load(db, session: record, version: record.checkpointVersion)
                ?? Checkpoint(updatedAt: record.createdAt)
        } catch {
            throw .sqlite(error)
        }
    }
}

/// Reading `checkpoints` rows, shared by the writer and the readers.
enum CheckpointRows {
    /// The given version; version 0 is the empty checkpoint every session starts with.
    static func load(_ db: Connection, session: SessionRecord, version: Int64) throws(SQLiteError) -> Checkpoint? {
        if version == 0 { return Checkpoint(updatedAt: session.createdAt) }
        let select = try db.statement(
            """
            SELECT summary, completed, pending, decisions, blockers, created_at FROM checkpoints
            WHERE session = ? AND version = ?
            """)
        select.bind(1, session.rowID)
        select.bind(2, version)
        guard try select.step() else { return nil }
        return Checkpoint(
            version: version, summary: select.text(0), completed: decodeList(select.text(1)),
            pending: decodeList(select.text(2)), decisions: decodeList(select.text(3)),
            blockers: decodeList(select.text(4)), updatedAt: select.int(5))
    }
}
