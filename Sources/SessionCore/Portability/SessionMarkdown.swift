import BrokerProtocol
import SQLite

/// A session as a readable Markdown record: header, agent description, context, checkpoint,
/// the whole conversation (archived messages marked), compaction history and token figures.
///
/// Empty sections are left out. The conversation is streamed row by row like any export,
/// so a long session costs no more memory than a short one.
enum SessionMarkdown {
    static func pieces(sessionId: String, cursor: ExportCursor) throws -> [ExportCursor.Piece] {
        let db = cursor.db
        guard let record = try SessionRows.load(db, id: sessionId) else {
            throw RPCError.notFound("session", sessionId)
        }
        let checkpoint =
            try CheckpointRows.load(db, session: record, version: record.checkpointVersion) ?? Checkpoint()
        var head = "# Session \(record.id)\n\n"
        head += "| | |\n|---|---|\n"
        head += "| Type | \(cell(record.type)) |\n| Feature | \(cell(record.featureId)) |\n"
        if let task = record.taskId { head += "| Task | \(cell(task)) |\n" }
        head += "| State | \(cell(record.state)) |\n"
        head +=
            "| Created | \(Timestamp.iso8601(record.createdAt)) |\n| Updated | \(Timestamp.iso8601(record.updatedAt)) |\n"
        head += "| Messages | \(record.messageCount) (\(record.archivedCount) archived) |\n"
        head += "| Tokens | \(record.activeTokens) active, \(record.totalTokens) in all messages |\n"
        head += "| Next request | \(record.requestTokens) of a \(record.tokenLimit)-token limit |\n"
        head += "| Checkpoint | version \(record.checkpointVersion) |\n"
        if record.compactions > 0 {
            head += "| Compactions | \(record.compactions), \(record.tokensSaved) tokens saved |\n"
        }
        head += document("Agent description", record.agentDescription)
        head += document("Context", record.context)
        head += checkpointSection(checkpoint)
        var pieces: [ExportCursor.Piece] = [.text(Array(head.utf8))]
        if record.messageCount > 0 {
            let messages = try db.statement(
                """
                SELECT seq, role, name, tool_call_id, created_at, tokens, content, seq < ? FROM messages
                WHERE session = ? ORDER BY seq
                """)
            messages.bind(1, record.firstActiveSeq)
            messages.bind(2, record.rowID)
            pieces.append(.text(Array("\n## Conversation\n".utf8)))
            pieces.append(.rows(ExportCursor.RowPiece(messages) { row, out in message(row, out) }))
        }
        pieces.append(.text(Array(try compactionHistory(db, record).utf8)))
        return pieces
    }

    /// A table cell's text: pipes escaped, lines joined.
    private static func cell(_ text: String) -> String {
        text.replacing("|", with: "\\|").replacing("\n", with: " ")
    }

    /// A context or agent description: text as it is, anything else as a JSON block; nothing when empty.
    private static func document(_ title: String, _ stored: String) -> String {
        let value = parseStored(stored)
        switch value {
        case .null: return ""
        case .string(let text) where text.isEmpty: return ""
        case .object(let object) where object.count == 0: return ""
        case .string(let text): return "\n## \(title)\n\n\(text)\n"
        default: return "\n## \(title)\n\n```json\n\(value.serializedString)\n```\n"
        }
    }

    private static func checkpointSection(_ checkpoint: Checkpoint) -> String {
        guard checkpoint.version > 0 else { return "" }
        var text = "\n## Checkpoint (version \(checkpoint.version), \(Timestamp.iso8601(checkpoint.updatedAt)))\n"
        if !checkpoint.summary.isEmpty { text += "\n\(checkpoint.summary)\n" }
        func list(_ title: String, _ items: [String], _ mark: String) {
            guard !items.isEmpty else { return }
            text += "\n### \(title)\n\n" + items.map { "- \(mark)\($0.replacing("\n", with: " "))\n" }.joined()
        }
        list("Completed", checkpoint.completed, "[x] ")
        list("Pending", checkpoint.pending, "[ ] ")
        list("Decisions", checkpoint.decisions, "")
        list("Blockers", checkpoint.blockers, "⚠ ")
        return text
    }

    /// One message: a heading with its number, role, name and time, then its text as written.
    private static func message(_ row: Statement, _ out: ExportBuffer) -> Bool {
        var heading = "\n### \(row.int(0)). \(row.text(1))"
        if let name = row.optionalText(2) { heading += " (\(name))" }
        heading += " · \(Timestamp.iso8601(row.int(4))) · \(row.int(5)) tokens"
        if let call = row.optionalText(3) { heading += " · answers tool call \(call)" }
        if row.int(7) != 0 { heading += " · archived" }
        out.json.rawBytes(Array((heading + "\n\n").utf8))
        var valid = true
        row.withBytes(6) { bytes in
            valid = UTF8Validation.isValid(bytes)
            if valid {
                out.json.rawBytes(bytes)
            } else {
                out.json.rawBytes(Array(String(decoding: bytes, as: UTF8.self).utf8))
            }
        }
        out.json.rawBytes([0x0A])
        return !valid
    }

    private static func compactionHistory(_ db: Connection, _ record: SessionRecord) throws -> String {
        let select = try db.statement(
            """
            SELECT checkpoint_version, created_at, reason, summarizer, message_count, tokens_before, tokens_after,
            duration_ms FROM compactions WHERE session = ? ORDER BY checkpoint_version
            """)
        select.bind(1, record.rowID)
        var rows: [String] = []
        while try select.step() {
            rows.append(
                "| \(select.int(0)) | \(Timestamp.iso8601(select.int(1))) | \(select.text(2)) | \(cell(select.text(3))) "
                    + "| \(select.int(4)) | \(select.int(5)) → \(select.int(6)) | \(select.int(7)) |")
        }
        guard !rows.isEmpty else { return "" }
        return "\n## Compaction history\n\n| Checkpoint | At | Reason | Summarizer | Messages | Tokens | ms |\n"
            + "|---|---|---|---|---|---|---|\n" + rows.joined(separator: "\n") + "\n"
    }
}
