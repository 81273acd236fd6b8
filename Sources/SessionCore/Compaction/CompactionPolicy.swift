/// When a session is due for an automatic compaction.
///
/// A session is due when the stored size of its next request reaches the
/// threshold, its last compaction is older than the cooldown, and its active
/// messages hold at least the minimum gain (compacting a few small messages
/// when the checkpoint itself is the problem would only loop).
public struct CompactionPolicy: Sendable, Equatable {
    /// The threshold: an absolute token count, or a fraction of the session's limit.
    public enum Threshold: Sendable, Equatable {
        case tokens(Int64)
        case fraction(Double)

        /// Parses a configured number: above 1 is tokens, (0, 1] a fraction of the limit.
        public init?(_ value: Double) {
            if value > 1, value <= 1e12 {
                self = .tokens(Int64(value))
            } else if value > 0, value <= 1 {
                self = .fraction(value)
            } else {
                return nil
            }
        }

        public func tokens(limit: Int64) -> Int64 {
            switch self {
            case .tokens(let tokens): tokens
            case .fraction(let fraction): Int64((Double(limit) * fraction).rounded(.down))
            }
        }
    }

    public var threshold: Threshold
    public var cooldownMillis: Int64
    public var minGainTokens: Int64

    public init(threshold: Threshold = .fraction(1), cooldownMillis: Int64 = 30_000, minGainTokens: Int64 = 1_000) {
        self.threshold = threshold
        self.cooldownMillis = cooldownMillis
        self.minGainTokens = minGainTokens
    }

    /// Whether `record` passed its threshold (regardless of cooldown and gain).
    public func isOverThreshold(_ record: SessionRecord) -> Bool {
        record.requestTokens >= threshold.tokens(limit: record.tokenLimit)
    }

    /// Whether an automatic compaction of `record` should start at `now`.
    public func isDue(_ record: SessionRecord, now: EpochMillis) -> Bool {
        guard isOverThreshold(record), record.activeCount > 0 else { return false }
        guard record.activePromptTokens >= minGainTokens else { return false }
        if let last = record.lastCompactionAt, now - last < cooldownMillis { return false }
        return true
    }
}
