import Testing

@testable import Tokenizer

/// Every fixture document must match tiktoken exactly: count, ids digest, ids.
@Suite("cl100k_base fixtures")
struct FixtureTests {
    @Test("all 226 documents match tiktoken encode_ordinary")
    func allDocumentsExact() throws {
        let encoding = try Shared.requireEncoding()
        let fixtures = try #require(Shared.fixtures, "token-fixtures.json missing or unreadable")
        #expect(fixtures.docs.count == 226)
        #expect(fixtures.ranks_file_sha256 == TokenEncoding.cl100kSHA256)
        var failed: [String] = []
        for doc in fixtures.docs {
            let ids = encoding.encode(doc.text)
            var problems: [String] = []
            if ids.count != doc.tokens { problems.append("encode count \(ids.count) != \(doc.tokens)") }
            let counted = encoding.count(doc.text)
            if counted != doc.tokens { problems.append("count() \(counted) != \(doc.tokens)") }
            if idsDigest(ids) != doc.ids_sha256 { problems.append("ids_sha256 differs") }
            if let expected = doc.ids, expected != ids { problems.append("ids \(ids) != \(expected)") }
            if !problems.isEmpty { failed.append("\(doc.id): " + problems.joined(separator: "; ")) }
        }
        #expect(failed.isEmpty, "\(failed.count) fixture(s) differ:\n\(failed.joined(separator: "\n"))")
    }

    @Test("total tokens equal the fixture file's total")
    func totalTokens() throws {
        let encoding = try Shared.requireEncoding()
        let fixtures = try #require(Shared.fixtures)
        let total = fixtures.docs.reduce(0) { $0 + encoding.count($1.text) }
        #expect(total == 276_065)
    }
}
