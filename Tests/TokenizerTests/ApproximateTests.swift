import Testing

@testable import Tokenizer

/// The labelled fallback estimate.
@Suite("ApproximateTokenCounter")
struct ApproximateTests {
    let counter = ApproximateTokenCounter()

    @Test("empty is 0, anything else at least 1, never exact")
    func basics() {
        #expect(counter.count("") == 0)
        #expect(counter.count(" ") == 1)
        #expect(counter.count("a") == 1)
        #expect(!counter.isExact)
    }

    @Test("CJK is charged about one token per character")
    func cjk() {
        // tiktoken: 28 tokens for this sentence; bytes/4 would say 22.
        let text = "今天我们讨论一下会话存储的设计，以及如何用 SQLite 和 ZeroMQ 实现。"
        let estimate = counter.count(text)
        #expect(estimate >= 24 && estimate <= 34)
    }

    @Test("within 20% of the exact total on the fixture corpus")
    func fixtureTotal() throws {
        let fixtures = try #require(Shared.fixtures)
        let exact = fixtures.docs.reduce(0) { $0 + $1.tokens }
        let estimate = fixtures.docs.reduce(0) { $0 + counter.count($1.text) }
        let ratio = Double(estimate) / Double(exact)
        #expect(ratio > 0.8 && ratio < 1.2, "estimate/exact = \(ratio)")
    }
}
