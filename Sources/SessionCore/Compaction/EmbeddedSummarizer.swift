/// The default summarizer: deterministic rules, no model.
///
/// 1. Carry forward: the old checkpoint's completed items, pending items,
///    decisions and blockers, in order.
/// 2. Pick up: every line of every message that starts (after an optional
///    `-`, `*` or `•` bullet) with a marker adds its text to a list:
///    `DONE:`, `COMPLETED:`, `FIXED:` or `[x]` to completed; `TODO:`,
///    `PENDING:`, `NEXT:` or `[ ]` to pending; `DECISION:` or `DECIDED:` to
///    decisions; `BLOCKER:` or `BLOCKED:` to blockers; `RESOLVED:` or
///    `UNBLOCKED:` to completed. Markers ignore case; an item is cut at
///    `maxItemCharacters`.
///    A marker after ". " or "; " in a line also starts an item (another one
///    when the line already had one)
///    ("DONE: parser. DECISION: keep it pure" adds one of each); one final
///    period is dropped.
/// 3. Move: an item marked completed (or resolved) that is pending (or a
///    blocker) leaves that list, so it is listed once, as done.
/// 4. Each list keeps one copy of each item (exact text).
/// 5. Summary: the old summary, then one paragraph for this compaction: the
///    range and its counts by role, then the first line of the last
///    `highlightCount` user and assistant messages. Oldest paragraphs are
///    dropped first to stay within `maxSummaryCharacters`.
public struct EmbeddedSummarizer: Summarizer {
    public static let maxItemCharacters = 500
    public static let maxSummaryCharacters = 6_000
    public static let highlightCount = 8
    public static let highlightCharacters = 200

    public var label: String { "embedded" }

    public init() {}

    public func summarize(_ input: SummaryInput) -> Checkpoint {
        var lists = Lists(input.checkpoint)
        for message in input.messages { lists.scan(message.content) }
        var next = Checkpoint(
            version: input.checkpoint.version, summary: "", completed: lists.completed.items,
            pending: lists.pending.items, decisions: lists.decisions.items, blockers: lists.blockers.items)
        next.summary = Self.boundedSummary(previous: input.checkpoint.summary, adding: Self.paragraph(input.messages))
        return next
    }

    /// One paragraph about the summarised messages.
    static func paragraph(_ messages: [StoredMessage]) -> String {
        guard let first = messages.first, let last = messages.last else { return "" }
        var byRole: [String: Int] = [:]
        for message in messages { byRole[message.role, default: 0] += 1 }
        let counts = Role.allCases.compactMap { role in byRole[role.rawValue].map { "\($0) \(role.rawValue)" } }
        var text = "Messages \(first.seq)-\(last.seq) (\(counts.joined(separator: ", "))) were compacted."
        let highlights = messages.filter { $0.role == "user" || $0.role == "assistant" }.suffix(highlightCount)
        for message in highlights {
            let line = message.content.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            text += "\n- \(message.role): " + clipped(line.trimmingLeadingSpaces(), to: highlightCharacters)
        }
        return text
    }

    /// `previous` and `adding` as paragraphs, dropping the oldest until the whole fits `maxSummaryCharacters`.
    static func boundedSummary(previous: String, adding paragraph: String) -> String {
        var paragraphs = RequestLayout.trimmed(previous).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        if !paragraph.isEmpty { paragraphs.append(paragraph) }
        var total = paragraphs.reduce(0) { $0 + $1.count + 2 }
        while total > maxSummaryCharacters, paragraphs.count > 1 {
            total -= paragraphs.removeFirst().count + 2
        }
        return clipped(paragraphs.joined(separator: "\n\n"), to: maxSummaryCharacters)
    }

    static func clipped(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}

/// The four lists while a summary is built: ordered, one copy of each item.
private struct Lists {
    struct OrderedItems {
        private(set) var items: [String] = []
        private var seen: Set<String> = []

        init(_ initial: [String]) { for item in initial { add(item) } }

        mutating func add(_ item: String) {
            if seen.insert(item).inserted { items.append(item) }
        }

        /// Removes `item` if present; returns whether it was.
        mutating func remove(_ item: String) -> Bool {
            guard seen.remove(item) != nil else { return false }
            items.removeAll { $0 == item }
            return true
        }
    }

    var completed: OrderedItems
    var pending: OrderedItems
    var decisions: OrderedItems
    var blockers: OrderedItems

    init(_ checkpoint: Checkpoint) {
        completed = OrderedItems(checkpoint.completed)
        pending = OrderedItems(checkpoint.pending)
        decisions = OrderedItems(checkpoint.decisions)
        blockers = OrderedItems(checkpoint.blockers)
    }

    enum Kind { case completed, resolved, pending, decision, blocker }

    static let markers: [(prefix: String, kind: Kind)] = [
        ("done:", .completed), ("completed:", .completed), ("fixed:", .completed), ("[x]", .completed),
        ("todo:", .pending), ("pending:", .pending), ("next:", .pending), ("[ ]", .pending),
        ("decision:", .decision), ("decided:", .decision), ("blocker:", .blocker), ("blocked:", .blocker),
        ("resolved:", .resolved), ("unblocked:", .resolved),
    ]

    mutating func scan(_ content: String) {
        // Most messages have no marker: skip them without splitting into lines.
        guard content.contains(":") || content.contains("[") else { return }
        for rawLine in content.split(whereSeparator: \.isNewline) {
            var line = Substring(rawLine).drop(while: { $0 == " " || $0 == "\t" })
            if let first = line.first, first == "-" || first == "*" || first == "•" {
                line = line.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
            }
            guard line.count > 3 else { continue }
            let head = line.prefix(12).lowercased()
            var rest: Substring
            var kind: Kind
            if let marker = Self.markers.first(where: { head.hasPrefix($0.prefix) }) {
                rest = line.dropFirst(marker.prefix.count)
                kind = marker.kind
            } else if let next = Self.splitAtNextMarker(line).1 {
                (kind, rest) = next  // "Tests pass. DONE: parser" marks from mid-line, after a sentence
            } else {
                continue
            }
            // "DONE: x. DECISION: y" holds two items: a marker after ". " or "; " starts the next one.
            while !rest.isEmpty {
                let (text, next) = Self.splitAtNextMarker(rest)
                add(String(text), as: kind)
                guard let next else { break }
                kind = next.kind
                rest = next.rest
            }
        }
    }

    /// The text before the next marker that follows ". " or "; ", and that marker with what follows it.
    static func splitAtNextMarker(_ text: Substring) -> (Substring, (kind: Kind, rest: Substring)?) {
        var index = text.startIndex
        while let separator = text[index...].firstIndex(where: { $0 == "." || $0 == ";" }) {
            let afterSeparator = text.index(after: separator)
            guard afterSeparator < text.endIndex, text[afterSeparator] == " " else {
                index = afterSeparator
                continue
            }
            let candidate = text[text.index(after: afterSeparator)...]
            let head = candidate.prefix(12).lowercased()
            if let marker = markers.first(where: { head.hasPrefix($0.prefix) && $0.prefix.hasSuffix(":") }) {
                let end = marker.prefix.count
                return (text[..<separator], (marker.kind, candidate.dropFirst(end)))
            }
            index = afterSeparator
        }
        return (text, nil)
    }

    private mutating func add(_ text: String, as kind: Kind) {
        var text = RequestLayout.trimmed(text.trimmingLeadingSpaces())
        if text.hasSuffix(".") && !text.hasSuffix("..") { text.removeLast() }  // "DONE: x." and "DONE: x" are one item
        let item = EmbeddedSummarizer.clipped(text, to: EmbeddedSummarizer.maxItemCharacters)
        guard !item.isEmpty else { return }
        switch kind {
        case .completed:
            _ = pending.remove(item)
            completed.add(item)
        case .resolved:
            _ = blockers.remove(item)
            _ = pending.remove(item)
            completed.add(item)
        case .pending: if !completed.items.contains(item) { pending.add(item) }
        case .decision: decisions.add(item)
        case .blocker: blockers.add(item)
        }
    }
}
