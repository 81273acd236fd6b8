/// Makes the ids the broker hands out: a prefix, then 26 base-32 characters that sort by creation time.
///
/// Like a ULID: 48 bits of milliseconds, then 80 random bits. Time order
/// matters for speed: a unique index takes new ids at its right edge,
/// touching one page per commit instead of one page per id. Client-made ids
/// (`messageId`) that sort by time (ULID, UUIDv7, these) get the same benefit.
public enum Identifier {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A new id such as `msg_01jd4m6v2k8q...`.
    public static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array(prefix.utf8)
        bytes.append(UInt8(ascii: "_"))
        let millis = UInt64(max(0, Timestamp.now()))
        for shift in stride(from: 45, through: 0, by: -5) {  // 10 characters of time, most significant first
            bytes.append(alphabet[Int((millis >> UInt64(shift)) & 31)])
        }
        var random = generator.next() as UInt64
        let more = generator.next() as UInt64
        for index in 0..<16 {
            if index == 12 { random = more }
            bytes.append(alphabet[Int(random & 31)])
            random >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
