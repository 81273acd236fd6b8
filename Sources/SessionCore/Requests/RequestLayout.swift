import BrokerProtocol

/// How a session's four parts become the markdown sections of a model request's system prompt.
///
/// Sections come in a fixed order: agent description, context, checkpoint,
/// conversation; an empty one is left out. Every section, and every message
/// block inside the conversation, ends with a blank line and the next one
/// starts with `#` (or `(` for the omission note), so no cl100k_base
/// pre-tokeniser piece crosses a boundary: the exact token count of the whole
/// prompt is the sum of the exact counts of its parts. That is what lets each
/// message's block be counted once, when it is stored, and a request over
/// 10,000 messages be built without recounting them. The layout is specified
/// in Protocols/AGENTBROKER-RPC.md ("Request layout"); changing it means
/// bumping `version`, which makes the broker recount stored blocks at start.
public enum RequestLayout {
    /// Stored with the counts in `meta.request_layout`; a different value triggers a recount.
    public static let version = "1"

    static let agentHeading = "# Agent description\n\n"
    static let contextHeading = "# Context\n\n"
    static let checkpointHeading = "# Checkpoint\n\n"
    /// The conversation section's heading, present whenever at least one message is included.
    public static let conversationHeading = "# Conversation\n\n"
    /// cl100k_base's count of `conversationHeading` ("#", " Conversation", "\n\n"); a test checks it.
    /// Stored estimates use it; a built request counts the heading with the broker's own counter.
    public static let conversationHeadingTokens: Int64 = 3

    /// The agent description section, or "" when it is empty.
    public static func agentSection(_ serialized: String) -> String {
        section(agentHeading, renderDocument(serialized))
    }

    /// The context section, or "" when it is empty.
    public static func contextSection(_ serialized: String) -> String {
        section(contextHeading, renderDocument(serialized))
    }

    /// The checkpoint section, or "" when the checkpoint holds nothing.
    public static func checkpointSection(_ checkpoint: Checkpoint) -> String {
        let summary = trimmed(checkpoint.summary)
        let lists = [
            ("Completed", checkpoint.completed), ("Pending", checkpoint.pending),
            ("Decisions", checkpoint.decisions), ("Blockers", checkpoint.blockers),
        ]
        guard !summary.isEmpty || lists.contains(where: { !$0.1.isEmpty }) else { return "" }
        var body = "Version \(checkpoint.version).\n\n"
        if !summary.isEmpty { body += summary + "\n\n" }
        for (title, items) in lists where !items.isEmpty {
            body += "## \(title)\n\n" + bulletList(items) + "\n\n"
        }
        return checkpointHeading + body
    }

    /// One message's block in the conversation section.
    public static func messageBlock(role: String, content: String, name: String?, toolCallId: String?) -> String {
        var header = "### " + role
        if let name { header += " (\(name))" }
        if let toolCallId { header += " [\(toolCallId)]" }
        return header + "\n\n" + content + "\n\n"
    }

    /// The note that opens the conversation when older messages were left out.
    public static func omissionNote(_ omitted: Int) -> String {
        omitted == 0 ? "" : "(\(omitted) earlier messages omitted to stay within the token limit.)\n\n"
    }

    /// The text of a context or agent description (serialized JSON: an object or a string).
    ///
    /// A string is used as is; an object's keys become `##` subsections in
    /// stored order: strings as is, arrays of strings as bullet lists, other
    /// values as compact JSON.
    public static func renderDocument(_ serialized: String) -> String {
        guard let document = try? JSONParser.parse(serialized) else { return trimmed(serialized) }
        switch document {
        case .string(let text): return trimmed(text)
        case .object(let object):
            var parts: [String] = []
            for (key, value) in object {
                let text: String
                switch value {
                case .string(let string): text = trimmed(string)
                case .array(let items) where items.allSatisfy({ $0.stringValue != nil }):
                    text = bulletList(items.compactMap(\.stringValue))
                case .null: continue
                default: text = value.serializedString
                }
                parts.append("## \(key)\n\n\(text)")
            }
            return parts.joined(separator: "\n\n")
        default: return document.serializedString
        }
    }

    private static func section(_ heading: String, _ body: String) -> String {
        body.isEmpty ? "" : heading + body + "\n\n"
    }

    private static func bulletList(_ items: [String]) -> String {
        items.map {
            "- " + $0.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: " ")
        }
        .joined(separator: "\n")
    }

    static func trimmed(_ text: String) -> String {
        var slice = Substring(text)
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        while let first = slice.first, first.isNewline { slice.removeFirst() }
        return String(slice)
    }
}

/// The exact token counts of a session's fixed sections (agent description, context, checkpoint).
public struct BaseSections: Sendable, Equatable {
    public var agentDescription: String
    public var context: String
    public var checkpoint: String
    public var agentDescriptionTokens: Int64
    public var contextTokens: Int64
    public var checkpointTokens: Int64

    public init(record: SessionRecord, checkpoint: Checkpoint, counter: any TokenCounter) {
        agentDescription = RequestLayout.agentSection(record.agentDescription)
        context = RequestLayout.contextSection(record.context)
        self.checkpoint = RequestLayout.checkpointSection(checkpoint)
        agentDescriptionTokens = Int64(counter.count(agentDescription))
        contextTokens = Int64(counter.count(context))
        checkpointTokens = Int64(counter.count(self.checkpoint))
    }

    public var totalTokens: Int64 { agentDescriptionTokens + contextTokens + checkpointTokens }
}
