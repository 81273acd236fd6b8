// Parser for tiktoken ranks files: one `base64(token bytes) SPACE rank` per line.
//
// Hand-written because Foundation's `Data(base64Encoded:)` per line plus String
// splitting costs far more than the 150 ms load budget allows for 100k lines.
// It decodes straight into one flat byte buffer that `RankTable` then indexes.

enum RanksFileParser {
    struct Parsed {
        var flat: [UInt8] = []
        var tokens: [(offset: Int, length: Int, rank: UInt32)] = []
        /// 1-based source line of each token, for error messages.
        var lines: [Int] = []
    }

    /// 0..63 for base64 alphabet bytes, 64 for '=', 255 for anything else.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(c)] = UInt8(i)
        }
        table[Int(UInt8(ascii: "="))] = 64
        return table
    }()

    static func parse(_ data: UnsafeRawBufferPointer) throws -> Parsed {
        var out = Parsed()
        out.flat.reserveCapacity(data.count / 2)
        out.tokens.reserveCapacity(data.count / 14)
        out.lines.reserveCapacity(data.count / 14)
        let bytes = data.assumingMemoryBound(to: UInt8.self)
        try decodeTable.withUnsafeBufferPointer { table in
            var pos = 0
            var line = 0
            let end = bytes.count
            while pos < end {
                line += 1
                var lineEnd = pos
                while lineEnd < end && bytes[lineEnd] != 0x0a { lineEnd += 1 }
                var stop = lineEnd
                // Tolerate CRLF and trailing blanks, as Python's split() does.
                while stop > pos && (bytes[stop - 1] == 0x0d || bytes[stop - 1] == 0x20 || bytes[stop - 1] == 0x09) {
                    stop -= 1
                }
                if stop > pos {
                    try parseLine(bytes, pos, stop, line, table, &out)
                }
                pos = lineEnd + 1
            }
        }
        if out.tokens.isEmpty {
            throw TokenizerError.unusableRanks(reason: "no tokens")
        }
        return out
    }

    private static func parseLine(
        _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ stop: Int, _ line: Int,
        _ table: UnsafeBufferPointer<UInt8>, _ out: inout Parsed
    ) throws {
        var space = start
        while space < stop && bytes[space] != 0x20 && bytes[space] != 0x09 { space += 1 }
        guard space < stop, space > start else {
            throw TokenizerError.malformedLine(line: line, reason: "expected `base64 rank`")
        }
        let offset = out.flat.count
        try decodeBase64(bytes, start, space, table, &out.flat, line)
        let length = out.flat.count - offset
        guard length > 0, length <= RankTable.maxTokenLength else {
            throw TokenizerError.malformedLine(line: line, reason: "token length \(length) out of range")
        }
        guard out.flat.count < RankTable.maxTotalBytes else {
            throw TokenizerError.unusableRanks(reason: "more than \(RankTable.maxTotalBytes) token bytes")
        }
        var p = space
        while p < stop && (bytes[p] == 0x20 || bytes[p] == 0x09) { p += 1 }
        guard p < stop else { throw TokenizerError.malformedLine(line: line, reason: "missing rank") }
        var rank: UInt64 = 0
        while p < stop {
            let digit = bytes[p] &- 0x30
            guard digit < 10 else { throw TokenizerError.malformedLine(line: line, reason: "rank is not a number") }
            rank = rank * 10 + UInt64(digit)
            // UInt32.max is the "not a token" sentinel in RankTable.
            guard rank < UInt64(UInt32.max) else {
                throw TokenizerError.malformedLine(line: line, reason: "rank too large")
            }
            p += 1
        }
        out.tokens.append((offset, length, UInt32(rank)))
        out.lines.append(line)
    }

    /// Strict padded base64 (the format tiktoken writes).
    private static func decodeBase64(
        _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ stop: Int,
        _ table: UnsafeBufferPointer<UInt8>, _ flat: inout [UInt8], _ line: Int
    ) throws {
        guard (stop - start) % 4 == 0 else {
            throw TokenizerError.malformedLine(line: line, reason: "base64 length not a multiple of 4")
        }
        var i = start
        while i < stop {
            let a = table[Int(bytes[i])], b = table[Int(bytes[i + 1])]
            let c = table[Int(bytes[i + 2])], d = table[Int(bytes[i + 3])]
            let last = i + 4 == stop
            guard a < 64, b < 64, c <= 64, d <= 64, (c < 64 || d == 64), (d == 64 ? last : true),
                (c == 64 ? last : true)
            else {
                throw TokenizerError.malformedLine(line: line, reason: "invalid base64")
            }
            flat.append(a << 2 | b >> 4)
            if c < 64 { flat.append((b & 0x0f) << 4 | c >> 2) }
            if d < 64 { flat.append((c & 0x03) << 6 | d) }
            i += 4
        }
    }
}
