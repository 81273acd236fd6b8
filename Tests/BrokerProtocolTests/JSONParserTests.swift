import BrokerProtocol
import Testing

@Suite("JSON parser and writer")
struct JSONParserTests {
    @Test("parses every JSON type and keeps integers exact")
    func parsesValues() throws {
        let value = try JSONParser.parse(
            #"{"a":[1,-2,3.5,1e3,true,false,null],"b":"x\"y\\z\n\u00e9\ud83d\ude00","big":9007199254740993}"#)
        #expect(value["a"] == [1, -2, 3.5, 1000.0, true, false, nil])
        #expect(value["b"]?.stringValue == "x\"y\\z\né😀")
        #expect(value["big"] == .int(9_007_199_254_740_993))
    }

    @Test(
        "rejects malformed documents with a position",
        arguments: [
            "", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", "-", "tru", "\"abc", "\"\\x\"", "\"\\ud800\"",
            "{\"a\" 1}", "[1 2]", "1 2", "\"tab\there\"", "nan", "{\"a\":1}x",
        ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("rejects invalid UTF-8 inside strings")
    func rejectsInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xFF, 0xFE, 0x22]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
        let escaped: [UInt8] = Array(#""a\n"#.utf8) + [0xC3] + [0x22]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(escaped) }
    }

    @Test("bounds nesting instead of overflowing the stack")
    func boundsNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try JSONParser.parse(fine).arrayValue != nil)
    }

    @Test("writer output parses back to the same value, control characters escaped")
    func roundTrip() throws {
        let value: JSON = [
            "text": .string("line\nbreak \"quoted\" back\\slash \u{01} tab\t 你好 🎉"), "n": -42, "d": 0.25,
            "list": [nil, true, [:]], "empty": "",
        ]
        let text = value.serializedString
        #expect(!text.contains("\n"))
        #expect(text.contains("\\u0001"))
        #expect(try JSONParser.parse(text) == value)
    }

    @Test("duplicate keys: the last one wins")
    func duplicateKeys() throws {
        #expect(try JSONParser.parse(#"{"a":1,"a":2}"#)["a"] == 2)
    }
}

@Suite("JSON writer escaping")
struct JSONWriterEscapeTests {
    @Test("every byte position of every escapable character is found by the word-at-a-time scan")
    func escapesAtEveryOffset() throws {
        for special in ["\"", "\\", "\n", "\u{01}", "\u{1F}"] {
            for offset in 0..<20 {
                let text = String(repeating: "a", count: offset) + special + String(repeating: "é", count: 9)
                let written = JSON.string(text).serializedString
                #expect(try JSONParser.parse(written) == .string(text), "offset \(offset)")
            }
        }
        let clean = String(repeating: "plain ascii and ünïcödé ", count: 10)
        #expect(JSON.string(clean).serializedString == "\"" + clean + "\"")
    }
}
