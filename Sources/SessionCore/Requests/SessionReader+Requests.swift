import BrokerProtocol
import SQLite

/// A request built from a session: the prompts and the exact tokens of each part.
struct BuiltRequest {
    var record: SessionRecord
    var checkpointVersion: Int64
    var systemPrompt: [UInt8]
    var userPrompt: String
    var agentDescriptionTokens: Int64
    var contextTokens: Int64
    var checkpointTokens: Int64
    var messagesTokens: Int64
    var userPromptTokens: Int64
    var includedMessages: Int64
    var omittedMessages: Int64

    var totalTokens: Int64 {
        agentDescriptionTokens + contextTokens + checkpointTokens + messagesTokens + userPromptTokens
    }
}

extension SessionReader {
    /// `session:buildRequest`.
    public func buildRequest(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId", "userMessage"])
        let built = try build(
            params.identifier("sessionId"), userMessage: params.string("userMessage", maxBytes: .max),
            mayTriggerCompaction: true)
        return reply(built) { writer in
            writer.raw(",\"totalTokens\":")
            writer.int(built.totalTokens)
        }
    }

    /// `session:previewRequest`.
    public func previewRequest(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["sessionId", "userMessage"])
        let userMessage = try params.optionalString("userMessage", maxBytes: .max) ?? ""
        let built = try build(params.identifier("sessionId"), userMessage: userMessage, mayTriggerCompaction: false)
        return reply(built) { writer in
            writer.raw(",\"breakdown\":")
            writer.value(
                .object(
                    JSONObject([
                        ("agentDescTokens", .int(built.agentDescriptionTokens)),
                        ("contextTokens", .int(built.contextTokens)),
                        ("checkpointTokens", .int(built.checkpointTokens)),
                        ("messagesTokens", .int(built.messagesTokens)),
                        ("userPromptTokens", .int(built.userPromptTokens)), ("total", .int(built.totalTokens)),
                    ])))
        }
    }

    private func reply(_ built: BuiltRequest, extra: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: built.systemPrompt.count + built.userPrompt.utf8.count + 512)
        writer.raw("{\"sessionId\":")
        writer.string(built.record.id)
        writer.raw(",\"systemPrompt\":")
        built.systemPrompt.withUnsafeBufferPointer { writer.string(utf8: $0) }
        writer.raw(",\"userPrompt\":")
        writer.string(built.userPrompt)
        extra(&writer)
        writer.raw(",\"omittedMessages\":")
        writer.int(built.omittedMessages)
        writer.raw(",\"includedMessages\":")
        writer.int(built.includedMessages)
        writer.raw(",\"tokenLimit\":")
        writer.int(built.record.tokenLimit)
        writer.raw(",\"checkpointVersion\":")
        writer.int(built.checkpointVersion)
        writer.raw(",\"exact\":")
        writer.bool(estimator.isExact)
        writer.raw("}")
        return writer.bytes
    }

    /// Builds the request within the session's token limit, leaving out the oldest messages if it must.
    /// A preview only looks; building the request a model will get may start a due compaction.
    func build(_ id: String, userMessage: String, mayTriggerCompaction: Bool) throws(RPCError) -> BuiltRequest {
        let counter = estimator.counter
        let built = try snapshot { () throws(RPCError) -> BuiltRequest in
            let record = try session(id)
            let checkpoint = try loadCheckpoint(record)
            let base = BaseSections(record: record, checkpoint: checkpoint, counter: counter)
            let userTokens = Int64(counter.count(userMessage))
            let fixed = base.totalTokens + userTokens
            if fixed > record.tokenLimit {
                throw Self.tooLarge(base: base, userTokens: userTokens, limit: record.tokenLimit)
            }
            var built = BuiltRequest(
                record: record, checkpointVersion: checkpoint.version, systemPrompt: [], userPrompt: userMessage,
                agentDescriptionTokens: base.agentDescriptionTokens, contextTokens: base.contextTokens,
                checkpointTokens: base.checkpointTokens, messagesTokens: 0, userPromptTokens: userTokens,
                includedMessages: 0, omittedMessages: record.activeCount)
            let selection: MessageSelection
            do throws(SQLiteError) {
                selection = try selectMessages(record, budget: record.tokenLimit - fixed)
            } catch { throw Self.internalError(error) }
            let capacity = base.agentDescription.utf8.count + base.context.utf8.count + base.checkpoint.utf8.count
            built.systemPrompt.reserveCapacity(capacity + selection.estimatedBytes)
            built.systemPrompt.append(contentsOf: base.agentDescription.utf8)
            built.systemPrompt.append(contentsOf: base.context.utf8)
            built.systemPrompt.append(contentsOf: base.checkpoint.utf8)
            if selection.included > 0 {
                built.systemPrompt.append(contentsOf: RequestLayout.conversationHeading.utf8)
                built.systemPrompt.append(contentsOf: RequestLayout.omissionNote(Int(selection.omitted)).utf8)
                do throws(SQLiteError) {
                    try appendBlocks(record, fromSeq: selection.fromSeq, to: &built.systemPrompt)
                } catch { throw Self.internalError(error) }
                built.messagesTokens = selection.tokens
            }
            built.includedMessages = selection.included
            built.omittedMessages = selection.omitted
            return built
        }
        if mayTriggerCompaction, let policy = compactionPolicy, let onCompactionDue,
            policy.isDue(built.record, now: Timestamp.now())
        {
            onCompactionDue(built.record.id)
        }
        return built
    }

    func loadCheckpoint(_ record: SessionRecord) throws(RPCError) -> Checkpoint {
        do throws(SQLiteError) {
            return try CheckpointRows.load(db, session: record, version: record.checkpointVersion)
                ?? Checkpoint(updatedAt: record.createdAt)
        } catch { throw Self.internalError(error) }
    }

    /// Which active messages fit in `budget` tokens, newest first, and what the conversation section costs.
    struct MessageSelection {
        var fromSeq: Int64
        var included: Int64
        var omitted: Int64
        /// Tokens of the whole conversation section: heading, omission note and blocks.
        var tokens: Int64
        var estimatedBytes: Int
    }

    private func selectMessages(_ record: SessionRecord, budget: Int64) throws(SQLiteError) -> MessageSelection {
        var none = MessageSelection(
            fromSeq: record.nextSeq, included: 0, omitted: record.activeCount, tokens: 0, estimatedBytes: 0)
        guard record.activeCount > 0 else { return none }
        let heading = conversationHeadingTokens
        // The usual case: everything fits, known from the stored sum without reading a row.
        if heading + record.activePromptTokens <= budget {
            return MessageSelection(
                fromSeq: record.firstActiveSeq, included: record.activeCount, omitted: 0,
                tokens: heading + record.activePromptTokens, estimatedBytes: Int(record.activePromptTokens) * 5)
        }
        // Walk back from the newest message; the note's own tokens depend on how many are left out.
        let select = try db.statement(
            "SELECT seq, role, prompt_tokens FROM messages WHERE session = ? AND seq >= ? ORDER BY seq DESC")
        select.bind(1, record.rowID)
        select.bind(2, record.firstActiveSeq)
        var newestFirst: [(seq: Int64, isTool: Bool, tokens: Int64)] = []
        newestFirst.reserveCapacity(Int(record.activeCount))
        while try select.step() {
            newestFirst.append((select.int(0), select.text(1) == Role.tool.rawValue, select.int(2)))
        }
        var included = newestFirst.count
        var blockTokens = newestFirst.reduce(0) { $0 + $1.tokens }
        func note(_ count: Int) -> Int64 {
            Int64(estimator.counter.count(RequestLayout.omissionNote(newestFirst.count - count)))
        }
        // The note's cost depends on how many are left out; the one for leaving out every message is
        // (give or take a token) the largest, so the walk uses it and the exact one is taken at the end.
        let noteBound = note(0) + 1
        while included > 0 {
            // The oldest included message must not be a tool result whose call is left out.
            let oldest = newestFirst[included - 1]
            if !oldest.isTool && heading + noteBound + blockTokens <= budget { break }
            blockTokens -= oldest.tokens
            included -= 1
        }
        let cost = { (count: Int) in heading + note(count) }
        guard included > 0 else { return none }
        none.fromSeq = newestFirst[included - 1].seq
        none.included = Int64(included)
        none.omitted = Int64(newestFirst.count - included)
        none.tokens = cost(included) + blockTokens
        none.estimatedBytes = Int(blockTokens) * 5
        return none
    }

    /// Appends the blocks of the active messages from `fromSeq` on, straight from SQLite's buffers.
    private func appendBlocks(_ record: SessionRecord, fromSeq: Int64, to prompt: inout [UInt8]) throws(SQLiteError) {
        let select = try db.statement(
            "SELECT role, content, name, tool_call_id FROM messages WHERE session = ? AND seq >= ? ORDER BY seq")
        select.bind(1, record.rowID)
        select.bind(2, fromSeq)
        let open: [UInt8] = Array("### ".utf8)
        let blankLine: [UInt8] = Array("\n\n".utf8)
        while try select.step() {
            prompt.append(contentsOf: open)
            select.withBytes(0) { prompt.append(contentsOf: $0) }
            if !select.isNull(2) {
                prompt.append(contentsOf: " (".utf8)
                select.withBytes(2) { prompt.append(contentsOf: $0) }
                prompt.append(UInt8(ascii: ")"))
            }
            if !select.isNull(3) {
                prompt.append(contentsOf: " [".utf8)
                select.withBytes(3) { prompt.append(contentsOf: $0) }
                prompt.append(UInt8(ascii: "]"))
            }
            prompt.append(contentsOf: blankLine)
            select.withBytes(1) { prompt.append(contentsOf: $0) }
            prompt.append(contentsOf: blankLine)
        }
    }

    /// `too_large`, naming the biggest of the parts that are never left out.
    static func tooLarge(base: BaseSections, userTokens: Int64, limit: Int64) -> RPCError {
        let parts: [(String, String, Int64)] = [
            ("agentDescription", "agent description", base.agentDescriptionTokens),
            ("context", "context", base.contextTokens), ("checkpoint", "checkpoint", base.checkpointTokens),
            ("userMessage", "user message", userTokens),
        ]
        let largest = parts.max { $0.2 < $1.2 }!
        let required = base.totalTokens + userTokens
        return RPCError(
            .tooLarge,
            "the request needs \(required) tokens before any message, over the session's limit of \(limit); "
                + "the largest part is the \(largest.1) (\(largest.2) tokens)",
            details: JSONObject([
                ("part", .string(largest.0)), ("partTokens", .int(largest.2)), ("requiredTokens", .int(required)),
                ("tokenLimit", .int(limit)),
            ]))
    }
}
