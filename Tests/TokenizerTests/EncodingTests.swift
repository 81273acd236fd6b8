import Testing

@testable import Tokenizer

/// Behaviour of the exact encoder beyond the fixture corpus.
@Suite("TokenEncoding")
struct EncodingTests {
    @Test("empty string gives no tokens")
    func empty() throws {
        let encoding = try Shared.requireEncoding()
        #expect(encoding.encode("") == [])
        #expect(encoding.count("") == 0)
    }

    @Test("known ids from tiktoken")
    func knownIds() throws {
        let encoding = try Shared.requireEncoding()
        #expect(encoding.encode("Hello, world!") == [9906, 11, 1917, 0])
        #expect(encoding.vocabularySize == 100_256)
        #expect(encoding.isExact)
    }

    @Test("special-token strings are plain text (encode_ordinary)")
    func specialTokensArePlainText() throws {
        let encoding = try Shared.requireEncoding()
        let ids = encoding.encode("<|endoftext|>")
        #expect(ids.count > 1)
        #expect(!ids.contains(100_257))
    }

    /// Expected pieces from the `regex` Python package running the same pattern.
    @Test(
        "pre-tokenisation matches the cl100k regex",
        arguments: [
            ("Hello, world!", ["Hello", ",", " world", "!"]),
            ("I'm you're I'VE DON'T can't", ["I", "'m", " you", "'re", " I", "'VE", " DON", "'T", " can", "'t"]),
            ("  word   \n", [" ", " word", "   \n"]),
            ("hello world   ", ["hello", " world", "   "]),
            ("a\n\n\n\nb", ["a", "\n\n\n\n", "b"]),
            ("\r\n\r\n x", ["\r\n\r\n", " x"]),
            ("x  \t y", ["x", "  \t", " y"]),
            (
                "12345 1,000 \u{663}\u{664}\u{665}\u{666}",
                ["123", "45", " ", "1", ",", "000", " ", "\u{663}\u{664}\u{665}", "\u{666}"]
            ),
            (" ...\n\n", [" ...\n\n"]),
            ("(word) 'quoted' \"x\"", ["(word", ")", " '", "quoted", "'", " \"", "x", "\""]),
            ("\tfoo\u{a0}bar\u{3000}baz", ["\tfoo", "\u{a0}bar", "\u{3000}baz"]),
            ("price: $100.00!!\r\n", ["price", ":", " $", "100", ".", "00", "!!\r\n"]),
            ("x'\u{17f} 'll'LL'Re", ["x", "'\u{17f}", " '", "ll", "'LL", "'Re"]),
            ("a  \n  b", ["a", "  \n", " ", " b"]),
            (" \n ", [" \n "]),
            ("über-cool", ["über", "-cool"]),
            ("e\u{301}te", ["e", "\u{301}te"]),
        ])
    func pieces(text: String, expected: [String]) throws {
        let encoding = try Shared.requireEncoding()
        // Compare scalars: Swift String equality would merge "e\u{301}" with "é".
        #expect(encoding.pieces(text).map { Array($0.unicodeScalars) } == expected.map { Array($0.unicodeScalars) })
    }

    @Test("Unicode 17 letters are not letters for tiktoken 0.14 (Unicode 16 tables)")
    func unicode17IsOther() {
        // U+323B0 is in CJK Extension J (Unicode 17.0); U+4E00 is an old ideograph.
        #expect(ScalarClass.compute(0x323B0) == ScalarClass.other)
        #expect(ScalarClass.compute(0x4E00) == ScalarClass.letter)
        #expect(ScalarClass.compute(0x3000) == ScalarClass.space)
        #expect(ScalarClass.compute(0x0D) == ScalarClass.newline)
        #expect(ScalarClass.compute(0x2167) == ScalarClass.number)  // ROMAN NUMERAL EIGHT (Nl)
    }

    @Test("count equals encode().count and pieces cover the text")
    func countMatchesEncode() throws {
        let encoding = try Shared.requireEncoding()
        var rng = TestRandom(seed: 42)
        let alphabet = Array("ab cd\n\r\t'sT1234 ,.!?{}\"é中文カ한👍🏽\u{a0}\u{3000}\u{200b}_-=")
        for _ in 0..<300 {
            let text = String((0..<rng.below(200)).map { _ in alphabet[rng.below(alphabet.count)] })
            #expect(encoding.count(text) == encoding.encode(text).count)
            #expect(encoding.pieces(text).joined() == text)
        }
    }

    @Test("long-piece heap merge equals tiktoken's quadratic merge")
    func mergePathsAgree() throws {
        let encoding = try Shared.requireEncoding()
        var rng = TestRandom(seed: 7)
        let syllables = ["a", "an", "the", "ing", "tion", "er", "s", " ", "x", "qu", "é", "中"]
        for _ in 0..<300 {
            var bytes: [UInt8] = []
            while bytes.count < 2 + rng.below(BytePairMerge.shortLimit - 2) {
                bytes += Array(syllables[rng.below(syllables.count)].utf8)
            }
            bytes = Array(bytes.prefix(BytePairMerge.shortLimit))
            var short: [Int] = [], long: [Int] = []
            bytes.withUnsafeBufferPointer { piece in
                let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * (BytePairMerge.shortLimit + 2))
                defer { scratch.deallocate() }
                BytePairMerge.mergeShort(piece.baseAddress!, piece.count, encoding.table, scratch) { s, e in
                    short += [s, e]
                }
                BytePairMerge.mergeLong(piece.baseAddress!, piece.count, encoding.table) { s, e in long += [s, e] }
            }
            #expect(short == long)
        }
    }

    @Test("long runs (heap path) match known counts")
    func longRuns() throws {
        let encoding = try Shared.requireEncoding()
        #expect(encoding.count(String(repeating: "a", count: 5000)) == 625)
        #expect(encoding.count(String(repeating: ".", count: 10000)) == 157)
    }
}

/// SplitMix64, so the random cases are the same on every run.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func below(_ n: Int) -> Int {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return Int((z ^ (z >> 31)) % UInt64(n))
    }
}
