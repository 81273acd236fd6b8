/// Counts the tokens of texts, messages and checkpoints with one counter.
///
/// The counter is exact (cl100k_base) when the ranks file loaded, or the
/// labelled approximation otherwise; `isExact` says which, and replies that
/// report counts carry it as `exact`.
public struct TokenEstimator: Sendable {
    public let counter: any TokenCounter

    public init(counter: any TokenCounter) { self.counter = counter }

    public var isExact: Bool { counter.isExact }

    /// Tokens of a text.
    public func estimate(_ text: String) -> Int { counter.count(text) }

    /// Tokens of chat messages, each with its framing (`MessageTokens`).
    public func estimateMessages(_ messages: [(content: String, name: String?)]) -> Int {
        messages.reduce(0) { $0 + MessageTokens.count(content: $1.content, name: $1.name, counter: counter) }
    }

    /// Tokens of a checkpoint's text fields.
    public func estimateCheckpoint(_ checkpoint: Checkpoint) -> Int { counter.count(checkpoint.countedText) }
}
