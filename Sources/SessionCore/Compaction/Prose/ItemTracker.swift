/// Follows the session's items through a conversation, sentence by sentence.
///
/// It starts from the old checkpoint's lists and applies each sentence's
/// signal: new items are added unless one like them is already listed (near
/// duplicates merge into the first wording); work reported done moves the
/// open item it names to completed (so does an answered question); a cleared
/// blocker moves to completed; a cancelled item leaves; a reversed decision is
/// replaced. An item from the old checkpoint never silently disappears: it
/// moves, or stays inside the item that replaces it ("… (replaces: …)"), which
/// `CheckpointGuard` accepts.
struct ItemTracker {
    struct Item {
        var text: String
        var words: [String]
        /// From the checkpoint this compaction started with.
        var inherited: Bool
    }

    enum List: CaseIterable { case completed, pending, decisions, blockers }

    private(set) var lists: [List: [Item]] = [:]
    var similarity = ItemSimilarity()
    let itemLimit: Int
    /// The last question asked, so "Nobody knows yet." can keep the question open.
    private var lastQuestion: (text: String, message: Int)?
    /// The sentence before this one in the same message, and the list it added an item to.
    private var previous: (sentence: ProseSentence, list: List?)?
    /// The latest numbered list of open questions, by number, for answers such as "On 2: not sure yet".
    private var numberedQuestions: [Int: String] = [:]

    /// How alike a new item must be to a listed one to count as the same item.
    static let duplicateScore = 0.5
    /// How many messages later "nobody knows yet" or "I'd say no" still refers to a question.
    static let questionReach = 6
    /// How alike a report must be to the open item it closes.
    static let closingScore = 0.45

    init(_ checkpoint: Checkpoint, itemLimit: Int) {
        self.itemLimit = itemLimit
        func items(_ texts: [String]) -> [Item] {
            texts.map { Item(text: $0, words: ItemText.contentWords(Words.of($0)), inherited: true) }
        }
        lists = [
            .completed: items(checkpoint.completed), .pending: items(checkpoint.pending),
            .decisions: items(checkpoint.decisions), .blockers: items(checkpoint.blockers),
        ]
    }

    func texts(_ list: List) -> [String] { lists[list, default: []].map(\.text) }

    /// Applies one sentence; true when it stated an item.
    @discardableResult
    mutating func read(_ sentence: ProseSentence) -> Bool {
        // Only a question with a topic can stay open ("what does p99 mean here?" is answered in passing).
        if sentence.isQuestion && ItemText.topicWords(sentence.words).count >= 3 {
            lastQuestion = (sentence.text, sentence.message)
        }
        let before = previous?.sentence.message == sentence.message ? previous : nil
        previous = (sentence, nil)
        if let ordinal = sentence.ordinal, sentence.isQuestion, sentence.marker == .pending {
            if ordinal == 1 { numberedQuestions.removeAll() }
            numberedQuestions[ordinal] = ItemText.itemText(sentence.text, limit: itemLimit)
        }
        if let (number, answer) = Self.numberedAnswer(sentence), let question = numberedQuestions[number] {
            return answerNumbered(question, answer)
        }
        guard let signal = ItemCues.classify(sentence) else { return false }
        var text = ItemText.itemText(sentence.text, limit: itemLimit)
        var words = ItemText.contentWords(sentence.words)
        // "Waiting on them." / "We can't build it until they do." go on from the sentence before.
        if let before, [.pending, .blocker, .decision].contains(signal), Self.pointsBack(sentence.words) {
            let list: List = signal == .pending ? .pending : signal == .blocker ? .blockers : .decisions
            if before.list == list { return true }
            text = ItemText.itemText(before.sentence.text + ". " + sentence.text, limit: itemLimit)
            words += ItemText.contentWords(before.sentence.words)
        }
        let item = Item(text: text, words: words, inherited: false)
        switch signal {
        case .pending:
            previous?.list = .pending
            addUnlessKnown(item, to: .pending)
        case .unresolved:
            // "Nobody knows yet", "leaving that open": the question just asked is the open item.
            let pointsBack =
                words.count < 4 || sentence.words.contains { ["it", "that", "this", "them"].contains($0) }
                || ItemCues.unresolved.firstMatch(in: sentence.words).map { $0.start <= 2 } == true
            if pointsBack, let question = lastQuestion, sentence.message - question.message <= Self.questionReach {
                let words = ItemText.contentWords(Words.of(question.text))
                addUnlessKnown(Item(text: question.text, words: words, inherited: false), to: .pending)
            } else if !pointsBack || ItemText.topicWords(sentence.words).count >= 3 {
                addUnlessKnown(item, to: .pending)
            } else {
                return false  // "Not decided, no": about something this summarizer cannot see
            }
        case .decision:
            // "Agreed on all of that" says yes to something, not what: no item.
            guard ItemText.topicWords(sentence.words).count >= 2 || sentence.marker != nil else { return false }
            previous?.list = .decisions
            close(by: item, in: .pending, onlyQuestions: true, note: "answered")
            addUnlessKnown(item, to: .decisions)
        case .answer:
            guard let question = lastQuestion, sentence.message - question.message <= Self.questionReach else { return false }
            let joined = ItemText.itemText(question.text + " " + sentence.text, limit: itemLimit)
            let answered = Item(text: joined, words: words + ItemText.contentWords(Words.of(question.text)), inherited: false)
            close(by: answered, in: .pending, onlyQuestions: true, note: "answered")
            addUnlessKnown(answered, to: .decisions)
        case .reversal:
            replaceDecision(with: item)
        case .blocker:
            previous?.list = .blockers
            addUnlessKnown(item, to: .blockers)
        case .cleared:
            if !close(by: item, in: .blockers, note: nil), words.count < 3 {
                // "We're unblocked!" names no blocker: the latest one is meant.
                closeLatest(in: .blockers)
            }
        case .completed:
            if !close(by: item, in: .pending, note: nil) && !close(by: item, in: .blockers, note: nil) {
                addUnlessKnown(item, to: .completed)
            }
        case .cancelled:
            cancel(by: item)
        }
        return true
    }

    /// "On 2: not sure yet" or "Re 3: Marta signs off": the number and the answer after the colon.
    static func numberedAnswer(_ sentence: ProseSentence) -> (Int, String)? {
        let words = sentence.words
        guard words.count >= 3, words[0] == "on" || words[0] == "re", let number = Int(words[1]),
            let colon = sentence.text.firstIndex(of: ":")
        else { return nil }
        return (number, String(sentence.text[sentence.text.index(after: colon)...].drop { $0 == " " }))
    }

    /// An answer to a numbered question: still open, now a blocker, or answered (a decision when it says one).
    private mutating func answerNumbered(_ question: String, _ answer: String) -> Bool {
        let words = Words.of(answer)
        var probe = ProseSentence(text: answer, words: words, marker: nil, isQuestion: false, message: 0, role: "user")
        probe.ordinal = nil
        let signal = ItemCues.classify(probe)
        if signal == .unresolved || words.contains("sure") || words.contains("open") { return true }  // stays open
        guard let index = lists[.pending, default: []].firstIndex(where: { $0.text == question }) else { return false }
        var item = lists[.pending]!.remove(at: index)
        let joined = ItemText.itemText(question + " " + answer, limit: itemLimit)
        let joinedWords = ItemText.contentWords(Words.of(joined))
        if signal == .blocker {
            if item.inherited { lists[.completed, default: []].append(Item(text: item.text + " (now blocked)", words: item.words, inherited: true)) }
            addUnlessKnown(Item(text: joined, words: joinedWords, inherited: false), to: .blockers)
            return true
        }
        item.text += " (answered)"
        if item.inherited { lists[.completed, default: []].append(item) }
        // "No. macOS and Linux only" decides; "Marta signs off on pricing, as always" only informs.
        let decides = words.contains("no") || words.contains("yes") || words.contains { $0.first?.isNumber == true }
            || signal == .decision
        if decides { addUnlessKnown(Item(text: joined, words: joinedWords, inherited: false), to: .decisions) }
        return true
    }

    /// Whether a sentence leans on the one before: "them", "they", "then", "those", "it", "that one".
    static func pointsBack(_ words: [String]) -> Bool {
        let pronouns: Set<String> = ["them", "they", "then", "those", "it", "these", "both"]
        return ItemText.topicWords(words).count < 5 && words.contains(where: pronouns.contains)
    }

    /// Adds `item` unless the list (or, for pending work, the completed list) has one like it.
    private mutating func addUnlessKnown(_ item: Item, to list: List) {
        guard !item.text.isEmpty else { return }
        var known = lists[list, default: []]
        if list == .pending { known += lists[.completed, default: []] }
        if known.contains(where: { $0.text == item.text || similar($0, item) >= Self.duplicateScore }) { return }
        lists[list, default: []].append(item)
    }

    private func similar(_ a: Item, _ b: Item) -> Double { similarity.score(a.words, b.words) }

    /// Moves the listed item most like `report` to completed; false when none is alike enough.
    @discardableResult
    private mutating func close(by report: Item, in list: List, onlyQuestions: Bool = false, note: String?) -> Bool {
        let candidates = lists[list, default: []].enumerated().filter { !onlyQuestions || $0.element.text.hasSuffix("?") }
        guard
            let best = candidates.max(by: { similar($0.element, report) < similar($1.element, report) }),
            similar(best.element, report) >= Self.closingScore
        else { return false }
        var item = lists[list]!.remove(at: best.offset)
        if let note { item.text += " (\(note))" }
        lists[.completed, default: []].append(item)
        return true
    }

    private mutating func closeLatest(in list: List) {
        guard var item = lists[list]?.popLast() else { return }
        item.text += " (cleared)"
        lists[.completed, default: []].append(item)
    }

    /// Drops the pending item `report` says is no longer needed; an inherited one is kept, marked, in completed.
    private mutating func cancel(by report: Item) {
        let pending = lists[.pending, default: []]
        guard let best = pending.indices.max(by: { similar(pending[$0], report) < similar(pending[$1], report) }),
            similar(pending[best], report) >= Self.closingScore
        else { return }
        var item = lists[.pending]!.remove(at: best)
        if item.inherited {
            item.text += " (no longer needed)"
            lists[.completed, default: []].append(item)
        }
    }

    /// Puts `decision` in place of the decision it reverses: the most alike, else the latest.
    private mutating func replaceDecision(with decision: Item) {
        let decisions = lists[.decisions, default: []]
        guard !decisions.isEmpty else { return addUnlessKnown(decision, to: .decisions) }
        let best = decisions.indices.max { similar(decisions[$0], decision) < similar(decisions[$1], decision) }!
        let index = similar(decisions[best], decision) > 0 ? best : decisions.count - 1
        var replacement = decision
        let old = decisions[index]
        if old.inherited { replacement.text += " (replaces: \(old.text))" }
        replacement.inherited = false
        lists[.decisions]![index] = replacement
    }
}
