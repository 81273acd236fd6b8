import BrokerProtocol
import SQLite

/// A session packet: a small, self-contained document that shares one session's outcome.
///
/// It carries what a colleague needs to pick the work up (the checkpoint's
/// decisions, pending items and blockers, the agent path) and a trace summary,
/// not the conversation. Usage figures come from messages whose metadata has a
/// `usage` object (agents record what their provider reported); rows without one
/// count as zero, and a metadata column that is not JSON is skipped, never an error.
enum SessionPacket {
    static func build(sessionId: String, db: Connection, header: DocumentHeader) throws -> JSON {
        guard let record = try SessionRows.load(db, id: sessionId) else {
            throw RPCError.notFound("session", sessionId)
        }
        let checkpoint =
            try CheckpointRows.load(db, session: record, version: record.checkpointVersion) ?? Checkpoint()
        let usage = try db.statement(
            """
            SELECT COALESCE(SUM(CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.usage.inputTokens') END), 0),
            COALESCE(SUM(CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.usage.outputTokens') END), 0),
            COALESCE(SUM(CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.usage.costUsd') END), 0.0)
            FROM messages WHERE session = ? AND metadata IS NOT NULL
            """)
        usage.bind(1, record.rowID)
        _ = try usage.step()
        let names = try db.statement(
            "SELECT name FROM messages WHERE session = ? AND name IS NOT NULL GROUP BY name ORDER BY MIN(seq)")
        names.bind(1, record.rowID)
        var agentPath = [record.type]
        while try names.step() {
            let name = names.text(0)
            if !agentPath.contains(name) { agentPath.append(name) }
        }
        return .object(
            JSONObject([
                ("format", .string(PortableFormat.packet)), ("packetVersion", .int(PortableFormat.packetVersion)),
                ("exportedAt", .string(Timestamp.iso8601(header.exportedAt))),
                ("exportedBy", .string(header.exportedBy)), ("brokerVersion", .string(BrokerVersion.version)),
                (
                    "session",
                    .object(
                        JSONObject([
                            ("id", .string(record.id)), ("type", .string(record.type)),
                            ("featureId", .string(record.featureId)), ("taskId", .optional(record.taskId)),
                            ("state", .string(record.state)), ("tokenLimit", .int(record.tokenLimit)),
                            ("createdAt", .string(Timestamp.iso8601(record.createdAt))),
                            ("updatedAt", .string(Timestamp.iso8601(record.updatedAt))),
                        ]))
                ),
                ("agentDescription", parseStored(record.agentDescription)), ("context", parseStored(record.context)),
                (
                    "checkpoint",
                    .object(
                        JSONObject([
                            ("version", .int(checkpoint.version)), ("summary", .string(checkpoint.summary)),
                            ("completed", .strings(checkpoint.completed)), ("pending", .strings(checkpoint.pending)),
                            ("decisions", .strings(checkpoint.decisions)), ("blockers", .strings(checkpoint.blockers)),
                        ]))
                ),
                (
                    "trace",
                    .object(
                        JSONObject([
                            ("messages", .int(record.messageCount)), ("archivedMessages", .int(record.archivedCount)),
                            ("compactions", .int(record.compactions)),
                            (
                                "tokens",
                                .object(
                                    JSONObject([
                                        ("total", .int(record.totalTokens)), ("active", .int(record.activeTokens)),
                                        ("saved", .int(record.tokensSaved)),
                                    ]))
                            ),
                            ("inputTokens", .int(usage.int(0))), ("outputTokens", .int(usage.int(1))),
                            ("costUsd", .double(usage.double(2))),
                        ]))
                ),
                ("agentPath", .strings(agentPath)),
            ]))
    }
}
