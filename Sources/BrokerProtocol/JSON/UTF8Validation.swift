/// Checks that bytes are valid UTF-8: stored text before it is written into JSON, and strings the JSON
/// parser reads (faster than `String(validating:as:)`, which is not specialized and looks up metadata per call).
///
/// SQLite stores whatever bytes it is given; a row edited by hand can hold
/// text JSON cannot carry. Text is mostly ASCII, so eight bytes at a time are
/// skipped while no high bit is set, and only the rest is decoded.
public enum UTF8Validation {
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        while index < count {
            if index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let (length, lowest): (Int, UInt32)
            switch lead {
            case 0xC2...0xDF: (length, lowest) = (2, 0x80)
            case 0xE0...0xEF: (length, lowest) = (3, 0x800)
            case 0xF0...0xF4: (length, lowest) = (4, 0x10000)
            default: return false
            }
            guard index + length <= count else { return false }
            var scalar = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length {
                let next = base[index + offset]
                guard next & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
            if scalar < lowest || (0xD800...0xDFFF).contains(scalar) || scalar > 0x10FFFF { return false }
            index += length
        }
        return true
    }
}
