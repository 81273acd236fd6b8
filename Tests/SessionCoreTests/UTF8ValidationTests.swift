import BrokerProtocol
import Testing

@testable import SessionCore

/// `UTF8Validation.isValid`: what decides whether a stored text goes into a document as it is or is flagged.
@Suite("UTF-8 validation")
struct UTF8ValidationTests {
    static func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer { UTF8Validation.isValid($0) } }

    /// The reference: bytes are valid UTF-8 exactly when decoding them (invalid sequences become U+FFFD)
    /// gives the same bytes back.
    static func reference(_ bytes: [UInt8]) -> Bool { Array(String(decoding: bytes, as: UTF8.self).utf8) == bytes }

    @Test("valid text: ASCII, 2-, 3- and 4-byte characters, the extremes of each length")
    func validText() {
        let texts = [
            "", "a", "hello world, 8 bytes+", String(repeating: "x", count: 1_001), "é", "Ω", "ü",
            "€", "✓", "你好", "\u{FFFD}", "\u{FEFF}", "🎉", "𝄞", "\u{10FFFF}", "\u{0}", "\u{7F}", "\u{80}", "\u{7FF}",
            "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FFFF}", "\u{10000}", "mixed ascii then é then 🎉 and more ascii",
        ]
        for text in texts {
            #expect(Self.valid(Array(text.utf8)), "\(text.debugDescription)")
        }
    }

    @Test("invalid: overlong forms, surrogates, past U+10FFFF, stray and missing continuation bytes")
    func invalidText() {
        let cases: [(String, [UInt8])] = [
            ("overlong NUL (C0 80)", [0xC0, 0x80]),
            ("overlong '/' (C1 AF)", [0xC1, 0xAF]),
            ("overlong 3-byte (E0 80 AF)", [0xE0, 0x80, 0xAF]),
            ("overlong U+07FF in 3 bytes", [0xE0, 0x9F, 0xBF]),
            ("overlong 4-byte (F0 80 80 AF)", [0xF0, 0x80, 0x80, 0xAF]),
            ("overlong U+FFFF in 4 bytes", [0xF0, 0x8F, 0xBF, 0xBF]),
            ("high surrogate U+D800", [0xED, 0xA0, 0x80]),
            ("low surrogate U+DFFF", [0xED, 0xBF, 0xBF]),
            ("surrogate pair in CESU-8", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
            ("U+110000", [0xF4, 0x90, 0x80, 0x80]),
            ("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
            ("FF", [0xFF]),
            ("FE", [0xFE]),
            ("lone continuation", [0x80]),
            ("continuation after ASCII", [0x41, 0xBF]),
            ("2-byte lead at the end", [0x41, 0xC3]),
            ("3-byte cut after 2", [0xE2, 0x9C]),
            ("4-byte cut after 3", [0xF0, 0x9F, 0x8E]),
            ("lead followed by ASCII", [0xC3, 0x41]),
            ("3-byte with ASCII in the middle", [0xE2, 0x41, 0x93]),
            ("5-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
        ]
        for (name, bytes) in cases {
            #expect(!Self.valid(bytes), "\(name)")
            #expect(!Self.reference(bytes), "the reference disagrees on \(name)")
            // Wherever the bad sequence sits: after 8-byte ASCII runs (the fast path), and before them.
            let ascii = Array("abcdefghijklmnop".utf8)
            for prefix in 0...9 {
                #expect(!Self.valid(Array(ascii.prefix(prefix)) + bytes), "\(name) after \(prefix) ASCII bytes")
                #expect(!Self.valid(Array(ascii.prefix(prefix)) + bytes + ascii), "\(name) inside ASCII")
            }
        }
    }

    @Test("random bytes: the same answer as decoding and re-encoding")
    func randomBytes() {
        var state: UInt64 = 12_345
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        // Bytes biased towards the interesting ranges: ASCII, continuation bytes and lead bytes.
        let alphabet: [UInt8] = Array(0x20...0x7E) + Array(0x80...0xBF) + Array(0xC0...0xFF) + [0xE0, 0xED, 0xF0, 0xF4]
        var disagreements: [[UInt8]] = []
        var validCount = 0
        for _ in 0..<30_000 {
            let count = Int(next() % 24)
            var bytes = (0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            // Half of them start from valid text, one byte changed.
            if next() % 2 == 0 {
                bytes = Array("ok é ✓ 🎉 done".utf8)
                bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
            }
            let answer = Self.valid(bytes)
            if answer { validCount += 1 }
            if answer != Self.reference(bytes) { disagreements.append(bytes) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(validCount > 1_000, "too few valid samples to mean anything: \(validCount)")
    }
}
