/// What a summarizer gets: the current checkpoint, the messages to fold into it, and any extra instructions.
public struct SummaryInput: Sendable {
    public var checkpoint: Checkpoint
    public var messages: [StoredMessage]
    public var instructions: String?

    public init(checkpoint: Checkpoint, messages: [StoredMessage], instructions: String? = nil) {
        self.checkpoint = checkpoint
        self.messages = messages
        self.instructions = instructions
    }
}

/// Turns a checkpoint and messages into the next checkpoint (its version is set by the writer).
///
/// Implementations block; the broker calls them on its compaction thread, never
/// on the writer or a reader.
public protocol Summarizer: Sendable {
    /// A label for events and records, such as `embedded` or `openai:gpt-4o-mini`.
    var label: String { get }
    func summarize(_ input: SummaryInput) throws(SummaryError) -> Checkpoint
}

/// Why a summary was not usable.
public struct SummaryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The rule every new checkpoint is held to: no pending item, decision or blocker of the old one is lost.
public enum CheckpointGuard {
    /// The old checkpoint's pending items, decisions and blockers missing from `new` (a pending item or
    /// blocker may move to another list, typically completed, and still counts as kept; so does an item
    /// quoted inside a new one, as in "use SQLite after all (replaces: use PostgreSQL)").
    public static func missingItems(old: Checkpoint, new: Checkpoint) -> [String] {
        let newItems = (new.completed + new.pending + new.decisions + new.blockers).map(normalized)
        let kept = Set(newItems)
        // Kept: the same text; moved with a note ("x (answered)", "x (cleared)"); or quoted by the decision that
        // replaced it ("… (replaces: x)"). A longer item that merely contains the text does not count.
        return (old.pending + old.decisions + old.blockers).filter { item in
            let text = normalized(item)
            if kept.contains(text) { return false }
            return !newItems.contains { $0.hasPrefix(text + " (") || $0.contains("(replaces: " + text + ")") }
        }
    }

    static func normalized(_ item: String) -> String {
        RequestLayout.trimmed(item).trimmingLeadingSpaces()
    }
}

extension String {
    func trimmingLeadingSpaces() -> String {
        String(drop(while: { $0.isWhitespace }))
    }
}
