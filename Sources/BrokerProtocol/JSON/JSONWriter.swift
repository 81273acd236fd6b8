/// Writes JSON into a byte buffer, either from a `JSON` tree or piece by piece.
///
/// The piecewise API lets hot paths (a page of ten thousand messages) stream
/// rows straight from SQLite into the reply without building a tree first.
/// Callers are responsible for commas: use `comma()` between members.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends already-serialized JSON verbatim (such as a stored metadata object).
    public mutating func rawBytes(_ json: some Sequence<UInt8>) { bytes.append(contentsOf: json) }

    public mutating func comma() { bytes.append(UInt8(ascii: ",")) }

    /// Writes `"key":`.
    public mutating func key(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func int(_ value: Int64) {
        if value >= 0 && value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    public mutating func double(_ value: Double) {
        guard value.isFinite else { return raw("null") }
        if value.rounded() == value && abs(value) < 1e15 {
            int(Int64(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }
    public mutating func null() { raw("null") }

    /// Writes a string literal, escaping quotes, backslashes and control characters.
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8: $0) }
    }

    /// Writes a string literal from UTF-8 bytes (already known to be valid), escaping as needed.
    public mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        let count = utf8.count
        guard let base = utf8.baseAddress else { return bytes.append(UInt8(ascii: "\"")) }
        while index < count {
            // Eight bytes at a time: skip words with no control character, quote or backslash.
            if index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if !Self.needsEscape(word) {
                    index += 8
                    continue
                }
            }
            let byte = base[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index - runStart))
                appendEscape(byte)
                runStart = index + 1
            }
            index += 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart))
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any byte of `word` is below 0x20, a quote or a backslash (SWAR: no branch per byte).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        let below = (word &- ones &* 0x20) & ~word & highs  // a byte < 0x20 (bytes >= 0x80 excluded by ~word)
        let quote = hasZero(word ^ (ones &* 0x22))
        let backslash = hasZero(word ^ (ones &* 0x5C))
        return (below | quote | backslash) != 0
    }

    private mutating func appendEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            raw("\\u00")
            bytes.append(hex[Int(byte >> 4)])
            bytes.append(hex[Int(byte & 0xF)])
        }
    }

    /// Writes a whole `JSON` value.
    public mutating func value(_ value: JSON) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { comma() }
                self.value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (index, pair) in object.pairs.enumerated() {
                if index > 0 { comma() }
                key(pair.key)
                self.value(pair.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

extension JSON {
    /// The compact UTF-8 serialization of this value.
    public var serialized: [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }

    /// The compact serialization as a string.
    public var serializedString: String { String(decoding: serialized, as: UTF8.self) }
}
