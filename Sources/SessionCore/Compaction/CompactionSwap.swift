import BrokerProtocol

/// What a finished summary asks the writer to commit, in one transaction: the new checkpoint
/// version, the archived range, the session's counters, a `compactions` row and the events.
///
/// The expected values are the session as the compactor read it; if a clear, a reset or a
/// checkpoint update changed it meanwhile, the swap is refused (`conflict`) rather than archive
/// messages the summary never saw or overwrite a checkpoint it did not start from.
public struct CompactionSwap: Sendable {
    public var sessionId: String
    public var reason: CompactionReason
    public var summarizer: String
    public var expectedFirstActiveSeq: Int64
    public var expectedCheckpointVersion: Int64
    /// The archived range is `expectedFirstActiveSeq...throughSeq`; empty when `archivedCount` is 0.
    public var throughSeq: Int64
    public var archivedCount: Int64
    public var archivedTokens: Int64
    public var archivedPromptTokens: Int64
    public var checkpoint: Checkpoint
    public var instructions: String?
    /// The client's id for `session:compact`: a retry with it gets the first result (`SessionWriter`).
    public var requestId: String?
    /// `Timestamp.monotonicMillis()` when the compaction started, for its duration.
    public var startedAt: Int64

    public init(
        plan: CompactionPlan, reason: CompactionReason, summarizer: String, checkpoint: Checkpoint,
        instructions: String?, requestId: String? = nil, startedAt: Int64
    ) {
        sessionId = plan.session.id
        self.reason = reason
        self.summarizer = summarizer
        expectedFirstActiveSeq = plan.session.firstActiveSeq
        expectedCheckpointVersion = plan.session.checkpointVersion
        throughSeq = plan.throughSeq
        archivedCount = Int64(plan.archived.count)
        archivedTokens = plan.archivedTokens
        archivedPromptTokens = plan.archivedPromptTokens
        self.checkpoint = checkpoint
        self.instructions = instructions
        self.requestId = requestId
        self.startedAt = startedAt
    }
}

/// Why a compaction ran.
public enum CompactionReason: String, Sendable {
    case auto, manual
}

/// The topics of compaction events.
extension Topic {
    public static let compactionStart = "compaction:start"
    public static let compactionComplete = "compaction:complete"
    public static let compactionError = "compaction:error"
}
