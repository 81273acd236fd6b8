import Testing

@testable import Tokenizer

/// Known-answer vectors from FIPS 180-4 / NIST.
@Suite("PureSHA256")
struct SHA256Tests {
    @Test("empty input")
    func empty() {
        #expect(PureSHA256.hexDigest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("abc")
    func abc() {
        #expect(PureSHA256.hexDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("two-block message (448 bits)")
    func twoBlocks() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(PureSHA256.hexDigest(message) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("one million 'a'")
    func million() {
        let bytes = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(PureSHA256.hexDigest(bytes) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
