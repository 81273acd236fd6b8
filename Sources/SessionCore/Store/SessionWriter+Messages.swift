import BrokerProtocol
import SQLite

extension SessionWriter {
    func addMessage(_ add: AddMessage) throws(CommandError) -> [UInt8] {
        if let messageId = add.messageId, let first = try existingMessage(messageId, sessionId: add.sessionId) {
            return first  // a retry: the first result, nothing stored twice
        }
        var record = try session(add.sessionId)
        let messageId = add.messageId ?? Identifier.make("msg")
        let tokens = add.tokens ?? Int64(MessageTokens.count(content: add.content, name: add.name, counter: counter))
        let promptTokens = add.promptTokens ?? Int64(counter.count(add.block))
        let seq = record.nextSeq
        record.nextSeq += 1
        record.messageCount += 1
        record.activeCount += 1
        record.totalTokens += tokens
        record.activeTokens += tokens
        record.activePromptTokens += promptTokens
        record.updatedAt = now
        let insert = try sql(
            """
            INSERT INTO messages (session, seq, message_id, role, content, name, tool_call_id, metadata, tokens,
            session_tokens, created_at, prompt_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            record.rowID, seq, messageId, add.role.rawValue, add.content, add.name, add.toolCallId,
            add.metadata, tokens, record.activeTokens, now, promptTokens)
        try run(insert)
        try emit(
            Topic.sessionMessage,
            JSONObject([
                ("sessionId", .string(record.id)), ("messageId", .string(messageId)), ("messageSeq", .int(seq)),
                ("role", .string(add.role.rawValue)), ("tokens", .int(tokens)),
                ("sessionTokens", .int(record.activeTokens)),
            ]))
        store(record)
        noteCompactionCandidate(record)
        return Self.addResult(messageId: messageId, seq: seq, tokens: tokens, sessionTokens: record.activeTokens)
    }

    /// The stored result of an earlier add with this `messageId`, or a conflict if it belongs elsewhere.
    private func existingMessage(_ messageId: String, sessionId: String) throws(CommandError) -> [UInt8]? {
        let select = try sql(
            """
            SELECT s.id, m.seq, m.tokens, m.session_tokens FROM messages m JOIN sessions s ON s.rowid = m.session
            WHERE m.message_id = ?
            """)
        select.bind(1, messageId)
        guard try step(select) else { return nil }
        guard select.text(0) == sessionId else {
            throw .rpc(
                RPCError(
                    .conflict, "messageId '\(messageId)' is already used in another session",
                    details: JSONObject([("messageId", .string(messageId))])))
        }
        return Self.addResult(
            messageId: messageId, seq: select.int(1), tokens: select.int(2), sessionTokens: select.int(3))
    }

    private static func addResult(messageId: String, seq: Int64, tokens: Int64, sessionTokens: Int64) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"messageId\":")
        writer.string(messageId)
        writer.raw(",\"seq\":")
        writer.int(seq)
        writer.raw(",\"tokens\":")
        writer.int(tokens)
        writer.raw(",\"sessionTokens\":")
        writer.int(sessionTokens)
        writer.raw("}")
        return writer.bytes
    }
}
