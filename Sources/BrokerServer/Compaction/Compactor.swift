import BrokerProtocol
import Logging
import SessionCore
import Threading

/// The compaction thread: reads a session's snapshot, summarises it, and hands the swap to the writer.
///
/// Summaries are made here, off the writer and the readers, so every other
/// request (on the same session too) is served while a model thinks; only the
/// final swap is a write, and it is refused if the session changed meanwhile.
/// Failed automatic compactions come back after a delay that doubles, up to
/// `maxAttempts`.
final class Compactor {
    let shared: BrokerShared
    let reader: SessionReader
    let settings: CompactionSettings
    let model: ModelSummarizer?
    let logger: Logger
    private let embedded: EmbeddedSummarizer
    private var delayed: [(due: Int64, job: CompactionJob)] = []
    /// Sessions whose last compaction was not applied (it would not have made the request smaller), and when:
    /// automatic triggers wait a cooldown before trying again, instead of summarising at every message.
    private var keptAt: [String: Int64] = [:]

    init(shared: BrokerShared, reader: SessionReader, model: ModelSummarizer?, logger: Logger) {
        self.shared = shared
        self.reader = reader
        self.settings = shared.configuration.compaction
        self.model = model
        self.logger = logger
        self.embedded = EmbeddedSummarizer(counter: shared.counter)
    }

    func run() {
        let coordinator = shared.compactions
        while true {
            let now = Timestamp.monotonicMillis()
            let wait = delayed.map { max(0, $0.due - now) }.min() ?? 3_600_000
            switch coordinator.queue.pop(waitingAtMost: Int(wait)) {
            case .item(let job): handle(job)
            case .timedOut: break
            case .closed:
                for entry in delayed { coordinator.release(entry.job.sessionId) }
                return
            }
            let due = Timestamp.monotonicMillis()
            let ready = delayed.filter { $0.due <= due }
            delayed.removeAll { $0.due <= due }
            for entry in ready { handle(entry.job) }
        }
    }

    private func handle(_ job: CompactionJob) {
        let started = Timestamp.monotonicMillis()
        if let kept = keptAt[job.sessionId] {
            if started - kept >= settings.policy.cooldownMillis {
                keptAt[job.sessionId] = nil
            } else if case .auto = job.kind {
                return finish(job, .success([]))  // tried a moment ago and it would not have helped
            }
        }
        if keptAt.count > 10_000 { keptAt = keptAt.filter { started - $0.value < settings.policy.cooldownMillis } }
        let plan: CompactionPlan
        do throws(RPCError) {
            if let requestId = job.requestId,
                let first = try reader.storedResult(requestId: requestId, scope: "session:compact \(job.sessionId)")
            {
                reader.finish()
                return finish(job, .success(first))  // a retry of a compaction already applied
            }
            plan = try reader.compactionPlan(sessionId: job.sessionId)
            reader.finish()
        } catch {
            reader.finish()
            return finish(job, .failure(error))
        }
        if case .auto = job.kind, !settings.policy.isDue(plan.session, now: Timestamp.now()) {
            return finish(job, .success([]))  // cleared, compacted or reset since it was queued
        }
        let input = SummaryInput(checkpoint: plan.checkpoint, messages: plan.archived, instructions: job.instructions)
        if job.isDryRun {
            let (checkpoint, label) = summarize(input, job, publish: false)
            return finish(job, .success(preview(plan, checkpoint, label)))
        }
        emit(
            Topic.compactionStart,
            JSONObject([
                ("sessionId", .string(job.sessionId)), ("reason", .string(job.reason.rawValue)),
                ("tokensBefore", .int(plan.session.requestTokens)), ("messageCount", .int(plan.archived.count)),
            ]))
        let (checkpoint, label) = summarize(input, job, publish: true)
        let tokensAfter = projectedTokens(plan, checkpoint)
        if tokensAfter >= plan.session.requestTokens {
            return keep(job, plan, tokensAfter: tokensAfter, label: label, started: started)
        }
        keptAt[job.sessionId] = nil
        let swap = CompactionSwap(
            plan: plan, reason: job.reason, summarizer: label, checkpoint: checkpoint,
            instructions: job.instructions, requestId: job.requestId, startedAt: started)
        switch writeAndWait(.applyCompaction(swap)) {
        case .success(let result):
            logger.info(
                "compacted session \(job.sessionId): \(plan.archived.count) messages archived",
                metadata: ["summarizer": "\(label)", "ms": "\(Timestamp.monotonicMillis() - started)"])
            finish(job, .success(result))
        case .failure(let error):
            let willRetry =
                job.reason == .auto && job.attempt < settings.maxAttempts && error.kind != .notFound
                && error.kind != .unavailable
            emitError(job, error.message, willRetry: willRetry, summarizer: label)
            logger.warning("compaction of session \(job.sessionId) not applied: \(error.message)")
            guard willRetry else { return finish(job, .failure(error)) }
            var again = job
            again.attempt += 1
            let delay = Int64(settings.retryDelayMillis) << Int64(job.attempt - 1)
            delayed.append((Timestamp.monotonicMillis() + delay, again))
        }
    }

    /// The configured summarizer's checkpoint; a model's that is malformed or loses items is retried, then
    /// replaced by the embedded summarizer's. Each failed try is reported with `compaction:error`.
    private func summarize(_ input: SummaryInput, _ job: CompactionJob, publish: Bool) -> (Checkpoint, String) {
        guard let model else { return (embedded.summarize(input), embedded.label) }
        for attempt in 1...(1 + settings.modelRetries) {
            let problem: String
            do throws(SummaryError) {
                let checkpoint = try model.summarize(input)
                let missing = CheckpointGuard.missingItems(old: input.checkpoint, new: checkpoint)
                if missing.isEmpty { return (checkpoint, model.label) }
                problem =
                    "the summary dropped \(missing.count) item(s) of the checkpoint: "
                    + missing.prefix(3).joined(separator: "; ")
            } catch {
                problem = error.message
            }
            logger.warning("summarizer \(model.label) failed for session \(job.sessionId) (try \(attempt)): \(problem)")
            if publish { emitError(job, problem, willRetry: true, summarizer: model.label, attempt: attempt) }
        }
        return (embedded.summarize(input), "embedded (fallback from \(model.label))")
    }

    /// The session's request tokens if `checkpoint` replaced the archived messages.
    private func projectedTokens(_ plan: CompactionPlan, _ checkpoint: Checkpoint) -> Int64 {
        var checkpoint = checkpoint
        checkpoint.version = plan.session.checkpointVersion + 1  // the version the writer stores, as it renders
        var after = plan.session
        after.activeCount -= Int64(plan.archived.count)
        after.activePromptTokens -= plan.archivedPromptTokens
        after.baseTokens = BaseSections(record: after, checkpoint: checkpoint, counter: shared.counter).totalTokens
        return after.requestTokens
    }

    /// Why a compaction is not applied: its checkpoint would cost as much as what it replaces, or more.
    static func keptReason(before: Int64, after: Int64) -> String {
        "the new checkpoint would not make the request smaller (\(after) tokens after, \(before) before); messages kept"
    }

    /// A compaction that would not help: nothing is written, the messages stay, and the outcome is said.
    ///
    /// Automatic: `compaction:complete` with `tokensSaved: 0` and `kept`, then a cooldown before the next try.
    /// Manual: the same event, and the client gets `conflict` with the reason.
    private func keep(_ job: CompactionJob, _ plan: CompactionPlan, tokensAfter: Int64, label: String, started: Int64) {
        let before = plan.session.requestTokens
        let reason = Self.keptReason(before: before, after: tokensAfter)
        emit(
            Topic.compactionComplete,
            JSONObject([
                ("sessionId", .string(job.sessionId)), ("reason", .string(job.reason.rawValue)),
                ("tokensBefore", .int(before)), ("tokensAfter", .int(before)), ("tokensSaved", .int(0)),
                ("durationMs", .int(Timestamp.monotonicMillis() - started)),
                ("checkpointVersion", .int(plan.session.checkpointVersion)), ("summarizer", .string(label)),
                ("messageCount", .int(0)), ("kept", .string(reason)),
            ]))
        logger.info("compaction of session \(job.sessionId) not applied: \(reason)")
        keptAt[job.sessionId] = Timestamp.monotonicMillis()
        guard case .manual = job.kind else { return finish(job, .success([])) }  // dry runs return before this
        finish(
            job,
            .failure(
                RPCError(
                    .conflict, reason,
                    details: JSONObject([("tokensBefore", .int(before)), ("tokensAfter", .int(tokensAfter))]))))
    }

    /// The answer to `session:previewCompaction`.
    private func preview(_ plan: CompactionPlan, _ checkpoint: Checkpoint, _ label: String) -> [UInt8] {
        var next = checkpoint
        next.version = plan.session.checkpointVersion + 1
        var after = plan.session
        after.activeCount -= Int64(plan.archived.count)
        after.activePromptTokens -= plan.archivedPromptTokens
        after.baseTokens = BaseSections(record: after, checkpoint: next, counter: shared.counter).totalTokens
        let archived = !plan.archived.isEmpty
        var result = JSONObject([
            ("sessionId", .string(plan.session.id)),
            (
                "archive",
                .object(
                    JSONObject([
                        ("fromSeq", .int(archived ? plan.session.firstActiveSeq : 0)),
                        ("throughSeq", .int(archived ? plan.throughSeq : 0)),
                        ("messageCount", .int(plan.archived.count)), ("tokens", .int(plan.archivedPromptTokens)),
                    ]))
            ),
            ("keptMessages", .int(plan.keptCount)),
            (
                "checkpoint",
                .object(
                    JSONObject([
                        ("version", .int(next.version)), ("summary", .string(next.summary)),
                        ("completed", .strings(next.completed)), ("pending", .strings(next.pending)),
                        ("decisions", .strings(next.decisions)), ("blockers", .strings(next.blockers)),
                    ]))
            ),
            ("tokensBefore", .int(plan.session.requestTokens)), ("tokensAfter", .int(after.requestTokens)),
            ("summarizer", .string(label)),
        ])
        if after.requestTokens >= plan.session.requestTokens {
            result["kept"] = .string(Self.keptReason(before: plan.session.requestTokens, after: after.requestTokens))
        }
        return JSON.object(result).serialized
    }

    private func finish(_ job: CompactionJob, _ result: Result<[UInt8], RPCError>) {
        if !job.isDryRun { shared.compactions.release(job.sessionId) }
        if let client = job.client { shared.outbox.post(Outgoing.from(result, client.envelope, id: client.id)) }
    }

    private func emitError(
        _ job: CompactionJob, _ message: String, willRetry: Bool, summarizer: String, attempt: Int? = nil
    ) {
        emit(
            Topic.compactionError,
            JSONObject([
                ("sessionId", .string(job.sessionId)), ("reason", .string(job.reason.rawValue)),
                ("error", .string(message)), ("willRetry", .bool(willRetry)), ("attempt", .int(attempt ?? job.attempt)),
                ("summarizer", .string(summarizer)),
            ]))
    }

    /// Records and publishes an event through the writer, without waiting for it.
    private func emit(_ topic: String, _ fields: JSONObject) { shared.emit(topic, fields) }

    private func writeAndWait(_ command: WriteCommand) -> Result<[UInt8], RPCError> {
        let done = Latch<Result<[UInt8], RPCError>>()
        let job = WriteJob(envelope: [], id: .null, command: command, onCommit: { done.set($0) })
        guard shared.writeQueue.push(job) else { return .failure(RPCError(.unavailable, "the broker is stopping")) }
        return done.wait()
    }
}
