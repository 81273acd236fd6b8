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
    typealias Item = ItemList.Item

    enum List: CaseIterable { case completed, pending, decisions, blockers }

    private var lists: [List: ItemList] = [:]
    let similarity: ItemSimilarity
    let itemLimit: Int
    /// The last question asked of the team, so "Nobody knows yet." can keep the question open.
    private var lastQuestion: (text: String, message: Int)?
    /// The last question of the message being read, whatever it asks.
    private var questionInMessage: (text: String, message: Int)?
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
    /// How alike news must be to the blocker it clears ("got replica access" for "no access to the replica").
    static let clearingScore = 0.35
    /// How alike a decision must be to the open question it answers (answers say it in other words).
    static let answeringScore = 0.3

    /// `similarity` has learnt the word weights of everything this compaction reads.
    init(_ checkpoint: Checkpoint, itemLimit: Int, similarity: ItemSimilarity) {
        self.itemLimit = itemLimit
        self.similarity = similarity
        func items(_ texts: [String]) -> ItemList {
            ItemList(texts.map { Item(text: $0, words: ItemText.contentWords(Words.of($0)), inherited: true) })
        }
        lists = [
            .completed: items(checkpoint.completed), .pending: items(checkpoint.pending),
            .decisions: items(checkpoint.decisions), .blockers: items(checkpoint.blockers),
        ]
    }

    func texts(_ list: List) -> [String] { lists[list]?.texts ?? [] }

    /// Applies one sentence; true when it stated an item.
    @discardableResult
    mutating func read(_ sentence: ProseSentence) -> Bool {
        // Only a question with a topic can stay open ("what does p99 mean here?" is answered in passing).
        if ItemCues.isTeamQuestion(sentence) || (sentence.isQuestion && ItemCues.unresolved.contains(sentence.words)) {
            lastQuestion = (sentence.text, sentence.message)
        }
        // Any question counts when "nobody knows" follows it in the same message ("¿Soportamos Android 8? Nadie lo
        // sabe todavía.").
        if sentence.message != questionInMessage?.message { questionInMessage = nil }
        // "Who owns the contracts once they're written? The producers or us?": the question with a topic.
        if sentence.isQuestion && ItemText.topicWords(sentence.words).count >= 2 {
            questionInMessage = (sentence.text, sentence.message)
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
        // "Still blocked on them." later on: a blocker already listed, said again.
        if signal == .blocker, before == nil, Self.pointsBack(sentence.words), lists[.blockers]?.isEmpty == false {
            return true
        }
        // "Illustrations remain on hold": "still" or "remain" with a word of an open blocker says it again.
        if signal == .blocker, sentence.words.contains(where: { ["still", "remain", "remains"].contains($0) }),
            let open = lists[.blockers], !open.candidates(for: words, weight: similarity.weight).isEmpty
        {
            return true
        }
        let item = Item(text: text, words: words, inherited: false)
        switch signal {
        case .pending:
            previous?.list = .pending
            // "I can do the per-tier config" after "someone needs to make limits.toml per tier": the offer takes
            // up the request, it is not another item.
            if sentence.words.contains("can") && sentence.words.contains("i"), let open = lists[.pending],
                open.candidates(for: words, weight: similarity.weight).contains(where: { id in
                    guard let request = open[id] else { return false }
                    let asked = ["someone", "somebody", "anyone", "who"].contains { request.text.lowercased().contains($0) }
                    return asked && similar(request, item) >= Self.answeringScore
                })
            {
                return true
            }
            addUnlessKnown(item, to: .pending)
        case .unresolved:
            // "Nobody knows yet", "leaving that open": the question just asked is the open item.
            let ownTopic = ItemText.topicWords(sentence.words).count
            let pointsBack =
                words.count < 4 || sentence.words.contains { ["it", "that", "this", "them"].contains($0) }
                || (ItemCues.unresolved.firstMatch(in: sentence.words).map { $0.start <= 2 } == true && ownTopic < 3)
            // A question asked just before in the same message is what the note is about, whatever its words.
            let question =
                sentence.isQuestion ? nil : questionInMessage.map { $0 } ?? (pointsBack ? lastQuestion.flatMap {
                    sentence.message - $0.message <= Self.questionReach ? $0 : nil
                } : nil)
            if pointsBack, before?.list == .pending { return true }  // "…, I'll raise it": the item just listed
            if let question {
                let words = ItemText.contentWords(Words.of(question.text))
                addUnlessKnown(Item(text: question.text, words: words, inherited: false), to: .pending)
            } else if !pointsBack {
                previous?.list = .pending
                // "the macOS/XDG question is still open": a question already listed, said again.
                if sentence.words.contains("question"), let open = lists[.pending],
                    open.candidates(for: words, weight: similarity.weight).contains(where: { id in
                        guard let question = open[id], question.text.hasSuffix("?") else { return false }
                        return Set(question.words).intersection(words).count >= 2
                    })
                {
                    return true
                }
                // "the macOS/XDG question is still open": an open question said again is the same item.
                addUnlessKnown(
                    item, to: .pending, bar: sentence.words.contains("question") ? Self.answeringScore : nil)
            } else {
                return false  // "Not decided, no": about something this summarizer cannot see
            }
        case .decision:
            // "Agreed on all of that" says yes to something, not what: no item. "We decided not to use Kafka" does.
            // "Fail that row and import the rest. Final answer.": the sentence before says what.
            let topic = ItemText.topicWords(sentence.words).count
            let deictic = sentence.words.contains { ["that", "this", "it", "both", "all", "those"].contains($0) }
            if topic < 2, let before, before.list == nil, ItemText.topicWords(before.sentence.words).count >= 2 {
                text = ItemText.itemText(before.sentence.text + ". " + sentence.text, limit: itemLimit)
                words += ItemText.contentWords(before.sentence.words)
            } else {
                guard topic >= 2 || (topic == 1 && !deictic) || sentence.marker != nil else { return false }
            }
            previous?.list = .decisions
            // "We decided not to use Kafka. We're going with NATS." One choice told in two sentences: one item.
            if before?.list == .decisions, let id = lists[.decisions]?.lastID, let last = lists[.decisions]?[id],
                !last.inherited
            {
                // The quote of a replaced checkpoint decision is kept whole, after the cut.
                let quote = Self.replacedQuote(last.text)
                let base = quote.map { String(last.text.dropLast($0.count)) } ?? last.text
                let joined = ItemText.itemText(base + ". " + text, limit: itemLimit * 2) + (quote ?? "")
                lists[.decisions]?.replace(id, with: Item(text: joined, words: last.words + words, inherited: false))
                return true
            }
            let decision = Item(text: text, words: words, inherited: false)
            close(by: decision, in: .pending, onlyQuestions: true, note: "answered", score: Self.answeringScore)
            // "We should drop the i686 build" then "agreed, i686 goes in 2.4": the proposal is now the decision.
            settle(by: decision)
            addUnlessKnown(decision, to: .decisions)
        case .answer:
            // "yes. 72h fine" after "add the prune to cron on all runners?": the question says what was decided.
            guard let question = lastQuestion, sentence.message - question.message <= Self.questionReach else {
                return false
            }
            let joined = ItemText.itemText(question.text + " " + sentence.text, limit: itemLimit)
            let answered = Item(text: joined, words: words + ItemText.contentWords(Words.of(question.text)), inherited: false)
            close(by: answered, in: .pending, onlyQuestions: true, note: "answered", score: Self.answeringScore)
            addUnlessKnown(answered, to: .decisions)
        case .reversal:
            previous?.list = .decisions
            replaceDecision(with: item, strong: ItemCues.strongReversing.contains(sentence.words))
        case .blocker:
            previous?.list = .blockers
            // "We should test on customer documents. But we can't until legal clears them": one blocked item.
            if before?.list == .pending, ["but", "however", "though"].contains(sentence.words.first ?? ""),
                let id = lists[.pending]?.lastID, let pending = lists[.pending]?[id], !pending.inherited
            {
                lists[.pending]?.remove(id)
                let joined = ItemText.itemText(pending.text + ". " + text, limit: itemLimit * 2)
                addUnlessKnown(Item(text: joined, words: pending.words + words, inherited: false), to: .blockers)
                return true
            }
            addUnlessKnown(item, to: .blockers)
        case .cleared:
            // Said outright ("main is green again"), a clearing needs less in common with its blocker.
            if !close(by: item, in: .blockers, note: nil, score: Self.clearingScore - 0.1), words.count < 3,
                ItemCues.unblocked.contains(sentence.words)
            {
                // "We're unblocked!" names no blocker: the latest one is meant.
                closeLatest(in: .blockers)
            }
        case .completed:
            // One report can close an open item and the blocker it was waiting on ("4.1.3 is live, QA started").
            let closedPending = close(by: item, in: .pending, note: nil)
            let closedBlocker = close(by: item, in: .blockers, note: nil, score: Self.clearingScore)
            if !closedPending && !closedBlocker { addUnlessKnown(item, to: .completed) }
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
        guard let id = lists[.pending]?.id(ofText: question), var item = lists[.pending]?.remove(id) else { return false }
        let joined = ItemText.itemText(question + " " + answer, limit: itemLimit)
        let joinedWords = ItemText.contentWords(Words.of(joined))
        if signal == .blocker {
            if item.inherited {
                lists[.completed, default: ItemList()].append(
                    Item(text: item.text + " (now blocked)", words: item.words, inherited: true))
            }
            addUnlessKnown(Item(text: joined, words: joinedWords, inherited: false), to: .blockers)
            return true
        }
        item.text += " (answered)"
        if item.inherited { lists[.completed, default: ItemList()].append(item) }
        // "No. macOS and Linux only" decides; "Marta signs off on pricing, as always" only informs.
        let decides = words.contains("no") || words.contains("yes") || words.contains { $0.first?.isNumber == true }
            || signal == .decision
        if decides { addUnlessKnown(Item(text: joined, words: joinedWords, inherited: false), to: .decisions) }
        return true
    }

    /// The " (replaces: …)" a reversal ends with, if any.
    static func replacedQuote(_ text: String) -> String? {
        guard text.hasSuffix(")"), let range = text.range(of: " (replaces: ", options: .backwards) else { return nil }
        return String(text[range.lowerBound...])
    }

    /// Whether a sentence leans on the one before: "them", "they", "then", "those", "it", "that one".
    static func pointsBack(_ words: [String]) -> Bool {
        let pronouns: Set<String> = [
            "them", "they", "then", "those", "it", "these", "both", "ellas", "ellos", "eso", "esto", "cela", "ça",
            "sie", "das", "dann",
        ]
        return ItemText.topicWords(words).count < 7 && words.contains(where: pronouns.contains)
    }

    /// Adds `item` unless the list (or, for pending work, the completed list) has one like it.
    private mutating func addUnlessKnown(_ item: Item, to list: List, bar: Double? = nil) {
        guard !item.text.isEmpty else { return }
        let searched: [List] = list == .pending ? [.pending, .completed] : [list]
        for name in searched {
            guard let known = lists[name] else { continue }
            for id in known.candidates(for: item.words, weight: similarity.weight) {
                guard let other = known[id] else { continue }
                // A blocker is said again in other words more often than a to-do: a lower bar.
                let needed = (name == list ? bar : nil) ?? (list == .blockers ? Self.duplicateScore - 0.1 : Self.duplicateScore)
                let score = similar(other, item)
                if other.text == item.text || (score >= needed && (Self.shareEnough(other, item) || score >= 0.6)) {
                    return
                }
            }
            if known.id(ofText: item.text) != nil { return }
        }
        lists[list, default: ItemList()].append(item)
    }

    private func similar(_ a: Item, _ b: Item) -> Double { similarity.score(a.words, b.words) }

    /// Two items are one if they share two topic words, or all of a one-word item; sharing one word they are one
    /// only when that word carries most of an item's weight: "slow CI" and "the CI runner is out of disk" share
    /// "CI" and are two blockers.
    static func shareEnough(_ a: Item, _ b: Item) -> Bool {
        let first = Set(a.words), second = Set(b.words)
        return first.intersection(second).count >= min(2, first.count, second.count)
    }

    /// The listed item most like `report` and its score, among those that share its heaviest words.
    private func best(in list: List, like report: Item, where accept: (Item) -> Bool = { _ in true }) -> (Int, Double)? {
        guard let known = lists[list] else { return nil }
        var found: (Int, Double)?
        for id in known.candidates(for: report.words, weight: similarity.weight) {
            guard let item = known[id], accept(item) else { continue }
            let score = similar(item, report)
            if score > (found?.1 ?? -1) { found = (id, score) }
        }
        return found
    }

    /// Moves the listed item most like `report` to completed; false when none is alike enough.
    @discardableResult
    private mutating func close(
        by report: Item, in list: List, onlyQuestions: Bool = false, note: String?, score needed: Double = closingScore
    ) -> Bool {
        guard let (id, score) = best(in: list, like: report, where: { !onlyQuestions || $0.text.hasSuffix("?") }),
            score >= needed, var item = lists[list]?.remove(id)
        else { return false }
        if let note { item.text += " (\(note))" }
        lists[.completed, default: ItemList()].append(item)
        return true
    }

    private mutating func closeLatest(in list: List) {
        guard let id = lists[list]?.lastID, var item = lists[list]?.remove(id) else { return }
        item.text += " (cleared)"
        lists[.completed, default: ItemList()].append(item)
    }

    /// Takes out of pending the proposal a decision settles ("we should drop i686" then "agreed, i686 goes");
    /// an inherited one is kept, marked, in completed. Only proposals: a decision about a topic does not do the
    /// work listed on it.
    private mutating func settle(by decision: Item) {
        guard
            let (id, score) = best(
                in: .pending, like: decision,
                where: { $0.text.contains("should") || $0.text.hasSuffix("?") || $0.text.lowercased().hasPrefix("maybe") }),
            score >= Self.closingScore, var item = lists[.pending]?.remove(id)
        else { return }
        if item.inherited {
            item.text += " (decided)"
            lists[.completed, default: ItemList()].append(item)
        }
    }

    /// Drops the pending item `report` says is no longer needed; an inherited one is kept, marked, in completed.
    private mutating func cancel(by report: Item) {
        guard let (id, score) = best(in: .pending, like: report), score >= Self.closingScore,
            var item = lists[.pending]?.remove(id)
        else { return }
        if item.inherited {
            item.text += " (no longer needed)"
            lists[.completed, default: ItemList()].append(item)
        }
    }

    /// Puts `decision` in place of the decision it reverses: the most alike; with a strong cue ("scratch that")
    /// and nothing alike, the latest. A "reversal" that reverses nothing listed is a decision of its own.
    private mutating func replaceDecision(with decision: Item, strong: Bool) {
        guard let decisions = lists[.decisions], let latest = decisions.lastID else {
            return addUnlessKnown(decision, to: .decisions)
        }
        // "Instead" or "back to" alone replace only a decision on the same topic; "scratch that" may name none.
        let matched = best(in: .decisions, like: decision).flatMap { $0.1 >= (strong ? 0.2 : 0.5) ? $0.0 : nil }
        guard let id = matched ?? (strong ? latest : nil) else { return addUnlessKnown(decision, to: .decisions) }
        guard let old = decisions[id] else { return }
        var replacement = decision
        if old.inherited {
            replacement.text += " (replaces: \(old.text))"
        } else if let quote = Self.replacedQuote(old.text) {
            replacement.text += quote  // a second reversal still names the checkpoint's decision
        }
        replacement.inherited = false
        lists[.decisions]?.replace(id, with: replacement)
    }
}
