import BrokerProtocol
import Testing

@testable import SessionCore

@Suite("Compaction rules")
struct CompactionRulesTests {
    func message(_ seq: Int64, _ role: String, _ content: String, toolCallId: String? = nil, metadata: String? = nil)
        -> StoredMessage
    {
        StoredMessage(
            seq: seq, role: role, content: content, toolCallId: toolCallId, metadata: metadata, tokens: 10,
            promptTokens: 12)
    }

    @Test("the embedded summarizer carries items forward, picks up markers, moves done items, and is deterministic")
    func embeddedRules() {
        let old = Checkpoint(
            version: 3, summary: "Earlier work.", completed: ["set up CI"], pending: ["write parser", "write docs"],
            decisions: ["use ZeroMQ"], blockers: ["flaky disk"])
        let messages = [
            message(
                10, "user",
                "Please go on. The tokenizer tables live in Sources/Tokenizer.\n- TODO: add benchmarks\n"
                    + "* DECISION: keep the parser pure"),
            message(11, "assistant", "DONE: write parser. BLOCKER: no network\n[x] write tests\n[ ] release notes"),
            message(12, "assistant", "Resolved: flaky disk; NEXT: tag 0.2"),
            message(13, "tool", "no markers here", toolCallId: "c1"),
        ]
        let input = SummaryInput(checkpoint: old, messages: messages)
        let next = EmbeddedSummarizer().summarize(input)
        #expect(next.completed == ["set up CI", "write parser", "write tests", "flaky disk"])
        #expect(next.pending == ["write docs", "add benchmarks", "release notes", "tag 0.2"])
        #expect(next.decisions == ["use ZeroMQ", "keep the parser pure"])
        #expect(next.blockers == ["no network"])
        #expect(next.summary.hasPrefix("Earlier work.\n\nMessages 10-13 (1 user, 2 assistant, 1 tool) were compacted."))
        #expect(next.summary.contains("- user: The tokenizer tables live in Sources/Tokenizer"))
        #expect(!next.summary.contains("Please go on"), "a sentence with nothing in it is not a highlight")
        #expect(CheckpointGuard.missingItems(old: old, new: next).isEmpty)
        #expect(EmbeddedSummarizer().summarize(input) == next)
    }

    @Test("the summary stays bounded however many compactions it goes through")
    func boundedSummary() {
        var checkpoint = Checkpoint()
        for round in 0..<200 {
            let messages = (0..<20).map {
                message(Int64(round * 20 + $0), "user", String(repeating: "word ", count: 80))
            }
            checkpoint = EmbeddedSummarizer().summarize(SummaryInput(checkpoint: checkpoint, messages: messages))
        }
        #expect(ApproximateTokenCounter().count(checkpoint.summary) <= EmbeddedSummarizer.maxSummaryTokens)
        #expect(checkpoint.summary.contains("Messages 3980-3999"))
    }

    @Test("the guard finds pending items, decisions and blockers a new checkpoint lost")
    func guardFindsLosses() {
        let old = Checkpoint(pending: ["a", "b"], decisions: ["d"], blockers: ["x"])
        #expect(
            CheckpointGuard.missingItems(
                old: old, new: Checkpoint(completed: ["a"], pending: ["b"], decisions: ["d"], blockers: ["x"])
            ).isEmpty)
        #expect(
            CheckpointGuard.missingItems(old: old, new: Checkpoint(pending: ["a"], decisions: ["d"])) == ["b", "x"])
    }

    @Test("a tool call and its results are never split by the archived range")
    func toolCallsStayWhole() {
        let record = SessionRecord.testRecord(firstActiveSeq: 1)
        let call = #"{"toolCalls":[{"id":"c1"},{"id":"c2"}]}"#
        let answered = [
            message(1, "user", "run it"), message(2, "assistant", "calling", metadata: call),
            message(3, "tool", "r1", toolCallId: "c1"), message(4, "tool", "r2", toolCallId: "c2"),
        ]
        #expect(CompactionPlan(session: record, checkpoint: Checkpoint(), active: answered).archived.count == 4)
        let open = Array(answered.prefix(3))
        let plan = CompactionPlan(session: record, checkpoint: Checkpoint(), active: open)
        #expect(plan.archived.map(\.seq) == [1])
        #expect(plan.keptCount == 2 && plan.throughSeq == 1)
        // OpenAI's shape, and an earlier call whose result comes after a later open call.
        let openAI = #"{"tool_calls":[{"id":"c9","type":"function"}]}"#
        let nested = [
            message(1, "assistant", "a", metadata: call), message(2, "tool", "r1", toolCallId: "c1"),
            message(3, "assistant", "b", metadata: openAI), message(4, "tool", "r2", toolCallId: "c2"),
        ]
        #expect(CompactionPlan(session: record, checkpoint: Checkpoint(), active: nested).archived.isEmpty)
    }

    @Test("a model's answer is parsed from JSON, fenced or bare; anything else is refused with the reason")
    func parsesModelAnswers() throws {
        let fenced = """
            Here it is:
            ```json
            {"summary": "S", "completed": ["a"], "pending": [], "decisions": ["d"], "blockers": null}
            ```
            """
        let checkpoint = try CompactionPrompt.parse(fenced)
        #expect(checkpoint.summary == "S" && checkpoint.completed == ["a"] && checkpoint.decisions == ["d"])
        for (answer, reason) in [
            ("no json at all", "no JSON object"), (#"{"summary": "S", "pending": "a"}"#, "'pending'"),
            (#"{"completed": []}"#, "no string 'summary'"), (#"{"summary": "S", "#, "no JSON object"),
            (#"{"summary": [1}"#, "does not parse"),
        ] {
            #expect {
                _ = try CompactionPrompt.parse(answer)
            } throws: { error in (error as? SummaryError)?.message.contains(reason) == true }
        }
        let prompt = CompactionPrompt.user(
            SummaryInput(
                checkpoint: Checkpoint(pending: ["p1"]), messages: [message(1, "user", "hello")],
                instructions: "Keep file paths."))
        #expect(prompt.contains(#""pending":["p1"]"#) && prompt.contains("# Extra instructions\n\nKeep file paths."))
        #expect(prompt.contains("### user\n\nhello\n\n"))
    }

    @Test("the policy: threshold as tokens or a fraction, cooldown, minimum gain")
    func policy() {
        var record = SessionRecord.testRecord(firstActiveSeq: 1)
        record.tokenLimit = 10_000
        record.activeCount = 100
        record.activePromptTokens = 9_000
        record.baseTokens = 1_000
        let policy = CompactionPolicy(threshold: .fraction(0.8), cooldownMillis: 60_000, minGainTokens: 500)
        #expect(policy.isDue(record, now: 1_000_000))
        record.lastCompactionAt = 990_000
        #expect(!policy.isDue(record, now: 1_000_000))
        record.lastCompactionAt = nil
        record.activePromptTokens = 400
        record.baseTokens = 9_000
        #expect(policy.isOverThreshold(record) && !policy.isDue(record, now: 1_000_000))
        #expect(CompactionPolicy.Threshold(0.5) == .fraction(0.5))
        #expect(CompactionPolicy.Threshold(50_000) == .tokens(50_000))
        #expect(CompactionPolicy.Threshold(0) == nil && CompactionPolicy.Threshold(-3) == nil)
    }
}

extension SessionRecord {
    static func testRecord(firstActiveSeq: Int64) -> SessionRecord {
        SessionRecord(
            rowID: 1, id: "s", type: "dev", featureId: "f", taskId: nil, state: "planning", tokenLimit: 100_000,
            context: "{}", agentDescription: "{}", nextSeq: firstActiveSeq, firstActiveSeq: firstActiveSeq,
            messageCount: 0, activeCount: 0, totalTokens: 0, activeTokens: 0, checkpointVersion: 0, compactions: 0,
            tokensSaved: 0, lastCompactionMs: nil, lastCompactionAt: nil, activePromptTokens: 0, baseTokens: 0,
            createdAt: 0, updatedAt: 0)
    }
}

@Suite("Compaction prompt")
struct CompactionPromptTests {
    @Test("a model's prompt carries the items the rules found, before the messages")
    func promptCarriesHints() {
        let messages = [
            StoredMessage(seq: 1, role: "user", content: "We decided to use PostgreSQL for the shared store."),
            StoredMessage(seq: 2, role: "assistant", content: "I still need to write the migration guide."),
        ]
        let input = SummaryInput(checkpoint: Checkpoint(), messages: messages)
        let hints = EmbeddedSummarizer().items(input)
        #expect(hints.decisions.count == 1 && hints.pending.count == 1)
        let prompt = CompactionPrompt.user(input, hints: hints)
        let section = try? #require(prompt.range(of: "# Items found by rules"))
        #expect(section != nil)
        #expect(prompt.contains("PostgreSQL for the shared store") && prompt.contains("write the migration guide"))
        if let section, let messagesHeading = prompt.range(of: "# Messages to fold in") {
            #expect(section.lowerBound < messagesHeading.lowerBound)
        }
        #expect(!CompactionPrompt.user(input).contains("# Items found by rules"))
    }
}

@Suite("Compaction rules: what the guard holds")
struct CompactionGuardTests {
    @Test("a checkpoint decision reversed twice is still quoted by the decision that stands")
    func reversalChain() {
        let old = Checkpoint(decisions: ["use PostgreSQL for the shared store"])
        let messages = [
            StoredMessage(seq: 1, role: "user", content: "Scratch that, we'll use SQLite for the shared store after all."),
            StoredMessage(seq: 2, role: "user", content: "Scratch that, we'll use DuckDB for the shared store after all."),
        ]
        let next = EmbeddedSummarizer().summarize(SummaryInput(checkpoint: old, messages: messages))
        #expect(next.decisions.count == 1)
        #expect(next.decisions.first?.contains("DuckDB") == true)
        #expect(next.decisions.first?.hasSuffix("(replaces: use PostgreSQL for the shared store)") == true)
        #expect(CheckpointGuard.missingItems(old: old, new: next).isEmpty)
    }

    @Test("the guard does not count an item as kept because a longer one contains its words")
    func containmentIsNotKeeping() {
        let old = Checkpoint(pending: ["Fix CI"])
        #expect(CheckpointGuard.missingItems(old: old, new: Checkpoint(pending: ["Fix CI flakiness on macOS"])) == ["Fix CI"])
        #expect(CheckpointGuard.missingItems(old: old, new: Checkpoint(completed: ["Fix CI (answered)"])).isEmpty)
    }
}

@Suite("Compaction rules: a checkpoint that stays bounded")
struct CompletedBoundTests {
    @Test("the completed list stays within its budget; the oldest inherited items leave, named in the summary")
    func completedIsBounded() {
        var checkpoint = Checkpoint(version: 1)
        for round in 0..<40 {
            let messages = (0..<10).map { index in
                StoredMessage(
                    seq: Int64(round * 10 + index + 1), role: "assistant",
                    content: "DONE: migrated table number \(round * 10 + index) to the new schema with its indexes")
            }
            checkpoint = EmbeddedSummarizer().summarize(SummaryInput(checkpoint: checkpoint, messages: messages))
            checkpoint.version += 1
        }
        let tokens = checkpoint.completed.reduce(0) { $0 + ApproximateTokenCounter().count($1) + 1 }
        #expect(tokens <= EmbeddedSummarizer.maxCompletedTokens)
        #expect(checkpoint.completed.last?.contains("399") == true, "the newest stay")
        #expect(!checkpoint.completed.contains { $0.contains("number 0 ") }, "the oldest left")
        #expect(checkpoint.summary.contains("earlier completed items remain in checkpoint version"))
    }
}
