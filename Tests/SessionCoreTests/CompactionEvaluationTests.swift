import BrokerProtocol
import Foundation
import Testing

@testable import SessionCore

/// The embedded summarizer measured on labelled conversations (Fixtures/compaction-eval, README there):
/// each is padded with routine chatter to hundreds of messages, compacted in slices as a session would be,
/// and the final checkpoint is scored against the labels, per kind.
@Suite("Compaction evaluation")
struct CompactionEvaluationTests {
    /// Messages per compaction: a session reaches its limit after a few hundred.
    static let slice = 120

    /// The floors hold what the rules reach now on the development sets, a few points below, so a change that
    /// makes them worse fails. The targets (recall 90%, precision 80%) are not met yet: see spec 18.4.3.
    static let floors: [String: (recall: Double, precision: Double)] = [
        "decisions": (0.70, 0.75), "pending": (0.74, 0.60), "blockers": (0.80, 0.72),
    ]

    @Test("embedded summarizer on the development sets: precision and recall per kind printed, the measured floor held")
    func evaluate() throws {
        // The two development sets the rules are tuned on: 36 conversations, then 14 more written later.
        var set = try EvaluationSet.load("compaction-eval")
        let second = try EvaluationSet.load("compaction-eval-dev2")
        set.conversations += second.conversations
        #expect(set.conversations.count >= 50)
        let (scores, details) = Self.run(set)
        Self.report("compaction evaluation (the sets the rules were tuned on)", set, scores, details)
        for kind in ["decisions", "pending", "blockers"] {
            let score = scores[kind] ?? Score()
            let floor = Self.floors[kind]!
            #expect(score.recall >= floor.recall, "\(kind) recall \(percent(score.recall))")
            #expect(score.precision >= floor.precision, "\(kind) precision \(percent(score.precision))")
        }
    }

    /// Conversations written after the rules were tuned and never used to tune them: how the rules do on text
    /// they have not seen. The targets are not met there (spec 18.4.3 gives the figures); the floor only catches
    /// a collapse: recall 25%, precision 50%.
    @Test("embedded summarizer on the held-out set: figures printed, a floor against collapse")
    func evaluateHeldOut() throws {
        var set = try EvaluationSet.load("compaction-eval-holdout")
        set.chatter = try EvaluationSet.load("compaction-eval").chatter
        #expect(set.conversations.count >= 10)
        let (scores, details) = Self.run(set)
        Self.report("compaction evaluation, held out", set, scores, details)
        for kind in ["decisions", "pending", "blockers"] {
            let score = scores[kind] ?? Score()
            #expect(
                score.recall >= 0.25 && score.precision >= 0.5,
                "\(kind): \(percent(score.recall)) / \(percent(score.precision))")
        }
    }

    /// Pads each conversation, compacts it in slices carrying the checkpoint forward, and scores the last one.
    static func run(_ set: EvaluationSet) -> ([String: Score], String) {
        var scores: [String: Score] = [:]
        var details = ""
        let trace = ProcessInfo.processInfo.environment["COMPACTION_EVAL_TRACE"]
        for conversation in set.conversations {
            let messages = conversation.padded(with: set.chatter)
            if trace == conversation.name {
                // Every sentence of the conversation with the signal the rules give it.
                for (index, message) in conversation.messages.enumerated() {
                    for sentence in ProseSplitter.sentences(of: message.content, message: index, role: message.role) {
                        print("\(ItemCues.classify(sentence).map { "\($0)" } ?? "-")\t\(sentence.text)")
                    }
                }
            }
            var checkpoint = Checkpoint()
            var seq: Int64 = 1
            for start in stride(from: 0, to: messages.count, by: slice) {
                let part = messages[start..<min(messages.count, start + slice)].map { message -> StoredMessage in
                    defer { seq += 1 }
                    return StoredMessage(seq: seq, role: message.role, content: message.content)
                }
                let next = EmbeddedSummarizer().summarize(SummaryInput(checkpoint: checkpoint, messages: part))
                #expect(CheckpointGuard.missingItems(old: checkpoint, new: next).isEmpty, "\(conversation.name)")
                checkpoint = next
            }
            if trace == conversation.name {
                for (kind, items) in [
                    ("decisions", checkpoint.decisions), ("pending", checkpoint.pending),
                    ("blockers", checkpoint.blockers), ("completed", checkpoint.completed),
                ] {
                    for item in items { print("FINAL \(kind): \(item)") }
                }
            }
            let predicted = [
                ("decisions", checkpoint.decisions), ("pending", checkpoint.pending),
                ("blockers", checkpoint.blockers), ("completed", checkpoint.completed),
            ]
            for (kind, items) in predicted {
                let labels = conversation.expected[kind] ?? []
                var scored = items
                if kind == "pending" {
                    // The labels list a blocked to-do once, as its blocker (Fixtures/compaction-eval/README.md):
                    // the same to-do under pending is neither right nor wrong.
                    let blockers = conversation.expected["blockers"] ?? []
                    scored = items.filter { item in
                        !blockers.contains { $0.matches(item) } || labels.contains { $0.matches(item) }
                    }
                }
                let result = Score.of(items: scored, labels: labels)
                scores[kind, default: Score()].add(result)
                if !result.missed.isEmpty || !result.wrong.isEmpty {
                    details += "\n\(conversation.name) \(kind):"
                    for label in result.missed { details += "\n  missed: \(label)" }
                    for item in result.wrong { details += "\n  wrong:  \(item)" }
                }
            }
        }
        return (scores, details)
    }

    static func report(_ title: String, _ set: EvaluationSet, _ scores: [String: Score], _ details: String) {
        if ProcessInfo.processInfo.environment["COMPACTION_EVAL_VERBOSE"] != nil { print(details) }
        print("\(title): \(set.conversations.count) conversations, \(set.messageCount) messages")
        for kind in ["decisions", "pending", "blockers", "completed"] {
            let score = scores[kind] ?? Score()
            print(
                "  \(kind): recall \(percent(score.recall)) (\(score.found)/\(score.labels)), "
                    + "precision \(percent(score.precision)) (\(score.correct)/\(score.predicted))")
        }
    }

    func percent(_ value: Double) -> String { Self.percent(value) }
    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
}

/// Found and predicted counts for one kind.
struct Score {
    var labels = 0, found = 0, predicted = 0, correct = 0
    var missed: [String] = []
    var wrong: [String] = []

    var recall: Double { labels == 0 ? 1 : Double(found) / Double(labels) }
    var precision: Double { predicted == 0 ? 1 : Double(correct) / Double(predicted) }

    mutating func add(_ other: Score) {
        labels += other.labels
        found += other.found
        predicted += other.predicted
        correct += other.correct
    }

    /// A label is found when some item matches it (one sentence may carry two decisions). An item is correct
    /// when it matches a label no earlier item matched; one that only repeats found labels is a duplicate.
    static func of(items: [String], labels: [EvaluationSet.Label]) -> Score {
        var score = Score(labels: labels.count, predicted: items.count)
        var claimed = Set<Int>()
        for item in items {
            let matching = labels.indices.filter { labels[$0].matches(item) }
            let fresh = matching.filter { !claimed.contains($0) }
            if !fresh.isEmpty {
                claimed.formUnion(fresh)
                score.correct += 1
            } else {
                score.wrong.append(item + (matching.isEmpty ? "" : "  [duplicate]"))
            }
        }
        score.found = claimed.count
        score.missed = labels.indices.filter { !claimed.contains($0) }.map { labels[$0].label }
        return score
    }
}

/// The labelled conversations and the chatter that pads them.
struct EvaluationSet {
    struct Message { let role: String, content: String }

    struct Label {
        let label: String
        /// Every entry must occur in the item (case ignored); `|` separates alternatives within an entry.
        let match: [String]

        func matches(_ item: String) -> Bool {
            let text = item.lowercased()
            return match.allSatisfy { entry in entry.lowercased().split(separator: "|").contains { text.contains($0) } }
        }
    }

    struct Conversation {
        let name: String
        let messages: [Message]
        let padding: Int
        let seed: UInt64
        let expected: [String: [Label]]

        /// The conversation with `padding` chatter messages placed between its messages by a seeded generator.
        func padded(with chatter: [Message]) -> [Message] {
            guard !chatter.isEmpty, !messages.isEmpty else { return messages }
            var random = SplitMix64(seed: seed)
            var gaps = [Int](repeating: 0, count: messages.count)
            for _ in 0..<padding { gaps[Int(random.next() % UInt64(messages.count))] += 1 }
            var result: [Message] = []
            for (index, message) in messages.enumerated() {
                for _ in 0..<gaps[index] { result.append(chatter[Int(random.next() % UInt64(chatter.count))]) }
                result.append(message)
            }
            return result
        }
    }

    var conversations: [Conversation] = []
    var chatter: [Message] = []
    var messageCount: Int { conversations.reduce(0) { $0 + $1.messages.count + $1.padding } }

    static func load(_ name: String) throws -> EvaluationSet {
        let folder = try #require(Bundle.module.url(forResource: name, withExtension: nil))
        var set = EvaluationSet()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        for file in files where file.hasSuffix(".json") {
            let json = try JSONParser.parse(Array(try Data(contentsOf: folder.appendingPathComponent(file))))
            if file == "chatter.json" {
                set.chatter = Self.messages(json["messages"])
                continue
            }
            var expected: [String: [Label]] = [:]
            for (kind, labels) in json["expected"]?.objectValue ?? JSONObject() {
                expected[kind] = (labels.arrayValue ?? []).map { label in
                    Label(
                        label: label["label"]?.stringValue ?? "?",
                        match: (label["match"]?.arrayValue ?? []).compactMap(\.stringValue))
                }
            }
            set.conversations.append(
                Conversation(
                    name: json["name"]?.stringValue ?? file, messages: Self.messages(json["messages"]),
                    padding: Int(json["padding"]?["messages"]?.intValue ?? 0),
                    seed: UInt64(json["padding"]?["seed"]?.intValue ?? 1), expected: expected))
        }
        return set
    }

    static func messages(_ json: JSON?) -> [Message] {
        (json?.arrayValue ?? []).map {
            Message(role: $0["role"]?.stringValue ?? "user", content: $0["content"]?.stringValue ?? "")
        }
    }
}

/// A small, fixed pseudo-random generator, so the padding is the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
