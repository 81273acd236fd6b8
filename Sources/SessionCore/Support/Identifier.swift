/// Makes the ids the broker hands out: a prefix and 20 random base-32 characters (100 bits).
public enum Identifier {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A new random id such as `ses_4k2m9x...`.
    public static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array(prefix.utf8)
        bytes.append(UInt8(ascii: "_"))
        var bits = generator.next() as UInt64
        var more = generator.next() as UInt64
        for index in 0..<20 {
            if index == 12 { bits = more; more = 0 }
            bytes.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
