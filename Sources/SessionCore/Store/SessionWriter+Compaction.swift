import BrokerProtocol
import SQLite

extension SessionWriter {
    /// Commits a compaction: the checkpoint, the archive boundary, the counters and the record, atomically.
    func applyCompaction(_ swap: CompactionSwap) throws(CommandError) -> [UInt8] {
        let before = try session(swap.sessionId)
        guard before.firstActiveSeq == swap.expectedFirstActiveSeq,
            before.checkpointVersion == swap.expectedCheckpointVersion
        else {
            throw .rpc(
                RPCError(
                    .conflict,
                    "session '\(before.id)' changed during its compaction (cleared, reset or checkpoint updated)"))
        }
        var checkpoint = swap.checkpoint
        checkpoint.version = before.checkpointVersion + 1
        let written = try writeCheckpoint(checkpoint, for: before)
        var record = try session(swap.sessionId)
        if swap.archivedCount > 0 {
            record.firstActiveSeq = swap.throughSeq + 1
            record.activeCount -= swap.archivedCount
            record.activeTokens -= swap.archivedTokens
            record.activePromptTokens -= swap.archivedPromptTokens
        }
        let durationMs = max(0, Timestamp.monotonicMillis() - swap.startedAt)
        let tokensBefore = before.requestTokens
        let tokensAfter = record.requestTokens
        let saved = max(0, tokensBefore - tokensAfter)
        record.compactions += 1
        record.tokensSaved += saved
        record.lastCompactionMs = durationMs
        record.lastCompactionAt = now
        let fromSeq = swap.archivedCount > 0 ? swap.expectedFirstActiveSeq : 0
        let throughSeq = swap.archivedCount > 0 ? swap.throughSeq : 0
        let insert = try sql(
            """
            INSERT INTO compactions (session, checkpoint_version, reason, summarizer, from_seq, through_seq,
            message_count, tokens_before, tokens_after, duration_ms, instructions, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bindAll(
            record.rowID, written.version, swap.reason.rawValue, swap.summarizer, fromSeq, throughSeq,
            swap.archivedCount, tokensBefore, tokensAfter, durationMs, swap.instructions, now)
        try run(insert)
        try emit(
            Topic.compactionComplete,
            JSONObject([
                ("sessionId", .string(record.id)), ("reason", .string(swap.reason.rawValue)),
                ("tokensBefore", .int(tokensBefore)), ("tokensAfter", .int(tokensAfter)),
                ("tokensSaved", .int(saved)), ("durationMs", .int(durationMs)),
                ("checkpointVersion", .int(written.version)), ("summarizer", .string(swap.summarizer)),
                ("messageCount", .int(swap.archivedCount)),
            ]))
        store(record)
        return JSON.object(
            JSONObject([
                ("sessionId", .string(record.id)), ("reason", .string(swap.reason.rawValue)),
                ("checkpointVersion", .int(written.version)), ("archivedCount", .int(swap.archivedCount)),
                ("fromSeq", .int(fromSeq)), ("throughSeq", .int(throughSeq)), ("tokensBefore", .int(tokensBefore)),
                ("tokensAfter", .int(tokensAfter)), ("tokensSaved", .int(saved)), ("durationMs", .int(durationMs)),
                ("summarizer", .string(swap.summarizer)),
            ])
        ).serialized
    }
}
