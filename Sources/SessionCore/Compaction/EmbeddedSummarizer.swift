/// The default summarizer: deterministic rules, no model, reading prose as well as marked lines.
///
/// 1. Read: every message but `tool` output is split into sentences (code
///    blocks, quotes and log-like lines left out; see `ProseSplitter`).
/// 2. Find: each sentence is classified by the documented cues (`ItemCues`):
///    a decision, a reversed decision, an open item or question, a blocker, a
///    cleared blocker, completed work, or a cancelled item; marked lines
///    (`TODO:`, `DONE:`, `DECISION:`, `BLOCKER:`, `- [ ]`, `- [x]` …) win over
///    cues; negations, questions and proposals are not items.
/// 3. Follow: starting from the old checkpoint, `ItemTracker` applies each
///    sentence in order: done work closes the open item it names, a cleared
///    blocker moves to completed, a reversal replaces the decision, near
///    duplicates merge. Names, paths and numbers stay as written.
/// 4. Summary: the old summary, then one paragraph for this compaction: the
///    range and its counts by role, then its most salient sentences
///    (`SummaryHighlights`). Paragraph and summary are bounded in tokens; the
///    oldest paragraphs go first.
public struct EmbeddedSummarizer: Summarizer {
    public static let maxItemCharacters = 240
    /// Tokens one compaction's paragraph may take.
    public static let maxParagraphTokens = 320
    /// Tokens the whole summary may take.
    public static let maxSummaryTokens = 1_200
    public static let highlightCount = 6
    /// Tokens the completed list may take. Past it, the oldest completed items that were already in the old
    /// checkpoint leave the new one (they stay in that earlier version, which the store keeps), so a long-lived
    /// session's checkpoint does not grow until no compaction can make its request smaller.
    public static let maxCompletedTokens = 1_500
    public static let highlightCharacters = 200

    public var label: String { "embedded" }
    private let counter: any TokenCounter

    /// `counter` bounds the summary; the broker gives its exact one.
    public init(counter: any TokenCounter = ApproximateTokenCounter()) {
        self.counter = counter
    }

    public func summarize(_ input: SummaryInput) -> Checkpoint {
        let (lists, highlights) = read(input)
        var next = Checkpoint(
            version: input.checkpoint.version, summary: "", completed: lists.texts(.completed),
            pending: lists.texts(.pending), decisions: lists.texts(.decisions), blockers: lists.texts(.blockers))
        let retired = retireOldCompleted(&next.completed, inherited: Set(input.checkpoint.completed))
        var paragraph = paragraph(input.messages, highlights: highlights)
        if retired > 0 {
            paragraph += "\n(\(retired) earlier completed item\(retired == 1 ? "" : "s") remain in checkpoint version "
                + "\(input.checkpoint.version).)"
        }
        next.summary = boundedSummary(previous: input.checkpoint.summary, adding: paragraph)
        // Nothing is silently lost: an old item the rules dropped by mistake goes back to the list it was in.
        for item in CheckpointGuard.missingItems(old: input.checkpoint, new: next) {
            if input.checkpoint.pending.contains(item) {
                next.pending.append(item)
            } else if input.checkpoint.decisions.contains(item) {
                next.decisions.append(item)
            } else {
                next.blockers.append(item)
            }
        }
        return next
    }

    /// Drops the oldest inherited completed items while the list is over `maxCompletedTokens`; returns how many.
    func retireOldCompleted(_ completed: inout [String], inherited: Set<String>) -> Int {
        var total = completed.reduce(0) { $0 + counter.count($1) + 1 }
        var retired = 0
        var index = 0
        while total > Self.maxCompletedTokens, index < completed.count {
            if inherited.contains(completed[index]) {
                total -= counter.count(completed[index]) + 1
                completed.remove(at: index)
                retired += 1
            } else {
                index += 1
            }
        }
        return retired
    }

    /// The items found by the rules alone, for a model-backed summarizer's prompt.
    public func items(_ input: SummaryInput) -> Checkpoint {
        let (lists, _) = read(input)
        return Checkpoint(
            completed: lists.texts(.completed), pending: lists.texts(.pending), decisions: lists.texts(.decisions),
            blockers: lists.texts(.blockers))
    }

    private func read(_ input: SummaryInput) -> (ItemTracker, [ProseSentence]) {
        var sentences: [ProseSentence] = []
        for (index, message) in input.messages.enumerated() {
            sentences += ProseSplitter.sentences(of: message.content, message: index, role: message.role)
        }
        // Word weights first (rare words count more), from everything read and the old lists.
        var similarity = ItemSimilarity()
        for sentence in sentences { similarity.learn(ItemText.contentWords(sentence.words)) }
        for item in input.checkpoint.completed + input.checkpoint.pending + input.checkpoint.decisions
            + input.checkpoint.blockers
        {
            similarity.learn(ItemText.contentWords(Words.of(item)))
        }
        var tracker = ItemTracker(input.checkpoint, itemLimit: Self.maxItemCharacters, similarity: similarity)
        var itemSentences: Set<Int> = []
        for (index, sentence) in sentences.enumerated() where tracker.read(sentence) { itemSentences.insert(index) }
        let highlights = SummaryHighlights.pick(
            sentences, itemSentences: itemSentences, similarity: tracker.similarity, count: Self.highlightCount)
        return (tracker, highlights)
    }

    /// One paragraph about the summarised messages, within `maxParagraphTokens`.
    func paragraph(_ messages: [StoredMessage], highlights: [ProseSentence]) -> String {
        guard let first = messages.first, let last = messages.last else { return "" }
        var byRole: [String: Int] = [:]
        for message in messages { byRole[message.role, default: 0] += 1 }
        let counts = Role.allCases.compactMap { role in byRole[role.rawValue].map { "\($0) \(role.rawValue)" } }
        var text = "Messages \(first.seq)-\(last.seq) (\(counts.joined(separator: ", "))) were compacted."
        var tokens = counter.count(text)
        // A summary worth having is much smaller than what it replaces: highlights take at most a quarter of the
        // messages' tokens (and never less room than a few lines), so compacting a small session still pays.
        let replaced = Int(messages.reduce(Int64(0)) { $0 + $1.tokens })
        let budget = min(Self.maxParagraphTokens, max(60, replaced / 4))
        for sentence in highlights {
            let line = "\n- \(sentence.role): " + Self.clipped(sentence.text, to: Self.highlightCharacters)
            let cost = counter.count(line)
            guard tokens + cost <= budget else { break }
            text += line
            tokens += cost
        }
        return text
    }

    /// `previous` and `adding` as paragraphs, dropping the oldest until the whole fits `maxSummaryTokens`.
    func boundedSummary(previous: String, adding paragraph: String) -> String {
        var paragraphs = RequestLayout.trimmed(previous).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        if !paragraph.isEmpty { paragraphs.append(paragraph) }
        var costs = paragraphs.map { counter.count($0) + 1 }
        while costs.reduce(0, +) > Self.maxSummaryTokens, paragraphs.count > 1 {
            paragraphs.removeFirst()
            costs.removeFirst()
        }
        // Counts of the parts need not add up to the count of the whole: check the whole, still oldest first.
        while paragraphs.count > 1, counter.count(paragraphs.joined(separator: "\n\n")) > Self.maxSummaryTokens {
            paragraphs.removeFirst()
        }
        var summary = paragraphs.joined(separator: "\n\n")
        // A single paragraph over the bound (an old summary written by a model) is cut at a line boundary.
        while counter.count(summary) > Self.maxSummaryTokens, let cut = summary.lastIndex(of: "\n") {
            summary = String(summary[..<cut])
        }
        if counter.count(summary) > Self.maxSummaryTokens {
            summary = Self.clipped(summary, to: Self.maxSummaryTokens * 3)
        }
        return summary
    }

    static func clipped(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
