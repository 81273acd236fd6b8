import Foundation
import Testing

@testable import Tokenizer

/// Loading and the fallback to the approximate counter: never a crash.
@Suite("TokenCounterLoader")
struct LoaderTests {
    /// A fresh file in the temporary directory holding `contents`.
    func temporaryFile(_ contents: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokenizer-test-\(UUID().uuidString).tiktoken")
        try Data(contents.utf8).write(to: url)
        return url
    }

    /// Base64 ranks lines for all 256 single bytes, ranks 0...255.
    func singleByteLines() -> String {
        (0..<256).map { "\(Data([UInt8($0)]).base64EncodedString()) \($0)\n" }.joined()
    }

    @Test("bundled file loads exact and hash-checked")
    func bundled() throws {
        let url = try #require(TokenEncoding.bundledRanksURL())
        let result = TokenCounterLoader.load(from: url)
        #expect(result.isExact)
        #expect(result.failure == nil)
        #expect(result.counter.count("Hello, world!") == 4)
    }

    @Test("missing file falls back to the approximate counter")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/cl100k_base.tiktoken")
        let result = TokenCounterLoader.load(from: url)
        #expect(!result.isExact)
        #expect(result.counter is ApproximateTokenCounter)
        #expect(result.failure?.contains("unreadable") == true)
        #expect(result.counter.count("hello world") >= 1)
        #expect(!TokenCounterLoader.load(from: nil).isExact)
    }

    @Test("wrong hash falls back")
    func wrongHash() throws {
        let url = try #require(TokenEncoding.bundledRanksURL())
        let result = TokenCounterLoader.load(from: url, expectedSHA256: String(repeating: "0", count: 64))
        #expect(!result.isExact)
        #expect(result.failure?.contains("sha256 mismatch") == true)
    }

    @Test("a modified copy fails the default cl100k hash check")
    func modifiedCopy() throws {
        let url = try temporaryFile(singleByteLines())
        defer { try? FileManager.default.removeItem(at: url) }
        let result = TokenCounterLoader.load(from: url)
        #expect(!result.isExact)
        #expect(result.failure?.contains("sha256 mismatch") == true)
    }

    @Test(
        "garbage content with the hash check disabled falls back",
        arguments: [
            "this is not a ranks file\n",
            "QUJD 12 extra\n",
            "!!!! 1\n",
            "QQ== notanumber\n",
            "QUI 5\n",
            "",
            "\u{0}\u{1}\u{2}",
        ])
    func garbage(contents: String) throws {
        let url = try temporaryFile(contents)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = TokenCounterLoader.load(from: url, expectedSHA256: nil)
        #expect(!result.isExact)
        #expect(result.failure != nil)
    }

    @Test("structural errors are reported precisely")
    func structuralErrors() throws {
        let missingByte = try temporaryFile(singleByteLines().split(separator: "\n").dropLast().joined(separator: "\n"))
        let duplicate = try temporaryFile(singleByteLines() + "YWI= 256\nYWI= 257\n")
        defer {
            try? FileManager.default.removeItem(at: missingByte)
            try? FileManager.default.removeItem(at: duplicate)
        }
        #expect(throws: TokenizerError.unusableRanks(reason: "byte 0xff has no rank")) {
            try TokenEncoding.load(contentsOf: missingByte, expectedSHA256: nil)
        }
        #expect(throws: TokenizerError.duplicateToken(line: 258)) {
            try TokenEncoding.load(contentsOf: duplicate, expectedSHA256: nil)
        }
    }

    @Test("a small custom vocabulary loads and merges by rank")
    func customVocabulary() throws {
        // "ab" = 256, "abc" = 257 (CRLF and a blank line are tolerated like Python's split()).
        let url = try temporaryFile(singleByteLines() + "YWI= 256\r\n\nYWJj 257\n")
        defer { try? FileManager.default.removeItem(at: url) }
        let encoding = try TokenEncoding.load(contentsOf: url, expectedSHA256: nil)
        #expect(encoding.encode("abcab") == [257, 256])
        #expect(encoding.encode("xab") == [120, 256])
    }

    @Test("AGENTBROKER_TOKEN_RANKS overrides the bundled file")
    func environmentOverride() throws {
        let path = "/nonexistent/override.tiktoken"
        let environment = [TokenCounterLoader.environmentVariable: path]
        #expect(TokenCounterLoader.ranksURL(environment: environment)?.path == path)
        let result = TokenCounterLoader.loadDefault(environment: environment)
        #expect(!result.isExact)
        #expect(result.ranksURL?.path == path)
        #expect(TokenCounterLoader.ranksURL(environment: [:]) == TokenEncoding.bundledRanksURL())
        #expect(TokenCounterLoader.loadDefault(environment: [TokenCounterLoader.environmentVariable: ""]).isExact)
    }
}
