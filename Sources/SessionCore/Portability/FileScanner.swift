import BrokerProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a large JSON document or JSONL file a piece at a time, knowing where each piece is.
///
/// A backup can be far larger than memory should hold, so the file is read in
/// blocks; each value (a record) is cut out whole by a byte scan that follows
/// strings and nesting, then parsed by the strict `JSONParser`. Every problem is
/// reported with its byte offset, line and column in the file.
final class FileScanner {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    /// The next unread byte in `buffer`.
    private var position = 0
    /// File offset of `buffer[0]`, and the line and line-start offset at `buffer[0]`.
    private var bufferOffset: Int64 = 0
    private var lineAtBuffer: Int64 = 1
    private var lineStartAtBuffer: Int64 = 0
    private var endOfFile = false
    /// Where the value `value` returned last began in `buffer`, until the next read: to locate problems in it.
    private(set) var lastValueStart = 0
    static let blockSize = 1 << 20
    /// Where `read` puts each block before it joins `buffer`.
    private var scratch = [UInt8](repeating: 0, count: blockSize)

    init(path: String) throws(ImportProblem) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ImportProblem("cannot open the file: \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    /// Reads another block; false at the end of the file.
    private func fill() throws(ImportProblem) -> Bool {
        guard !endOfFile else { return false }
        // Drop what was consumed, counting its lines, so the buffer holds only the value being read.
        if position > 0 {
            advanceLines(through: position)
            buffer.removeFirst(position)
            bufferOffset += Int64(position)
            position = 0
        }
        let got = scratch.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress!, raw.count) }
        guard got >= 0 else { throw ImportProblem("cannot read the file: \(String(cString: strerror(errno)))") }
        if got == 0 { endOfFile = true }
        buffer.append(contentsOf: scratch[0..<got])
        return got > 0
    }

    private func advanceLines(through end: Int) {
        for index in 0..<end where buffer[index] == 0x0A {
            lineAtBuffer += 1
            lineStartAtBuffer = bufferOffset + Int64(index) + 1
        }
    }

    /// The location of `buffer[index]`, for a problem found there.
    func problem(_ message: String, at index: Int? = nil, path: String) -> ImportProblem {
        let target = min(index ?? position, buffer.count)
        var line = lineAtBuffer
        var lineStart = lineStartAtBuffer
        for scan in 0..<target where buffer[scan] == 0x0A {
            line += 1
            lineStart = bufferOffset + Int64(scan) + 1
        }
        let byte = bufferOffset + Int64(target)
        return ImportProblem(message, byte: byte, line: line, column: byte - lineStart + 1, path: path)
    }

    /// The next byte that is not whitespace, without consuming it; nil at the end of the file.
    func peek() throws(ImportProblem) -> UInt8? {
        while true {
            while position < buffer.count {
                switch buffer[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return buffer[position]
                }
            }
            guard try fill() else { return nil }
        }
    }

    /// Consumes `byte` (after whitespace) or reports what was expected.
    func expect(_ byte: UInt8, _ what: String, path: String) throws(ImportProblem) {
        guard let next = try peek() else { throw problem("the file ends early: expected \(what)", path: path) }
        guard next == byte else { throw problem("expected \(what)", path: path) }
        position += 1
    }

    /// Consumes `byte` if it comes next.
    func consume(_ byte: UInt8) throws(ImportProblem) -> Bool {
        guard try peek() == byte else { return false }
        position += 1
        return true
    }

    /// Cuts out the next whole JSON value and parses it.
    func value(path: String) throws(ImportProblem) -> JSON {
        guard try peek() != nil else { throw problem("the file ends early: expected a value", path: path) }
        var index = position
        var depth = 0
        var inString = false
        while true {
            let (next, finished) = buffer.withUnsafeBufferPointer { bytes in
                Self.scan(bytes, from: index, depth: &depth, inString: &inString)
            }
            index = next
            if finished { break }
            // The buffer ran out first. `fill` drops the bytes before `position` (the value's start):
            // indexes move down with them.
            let shift = position
            let more = try fill()
            index -= shift
            if !more {
                if depth == 0 && !inString && index > position { break }  // a number at the very end
                throw problem("the file ends in the middle of a value (truncated?)", at: buffer.count, path: path)
            }
        }
        let valueStart = position
        lastValueStart = valueStart
        position = index
        do {
            return try buffer[valueStart..<index].withUnsafeBufferPointer { bytes throws(JSONParseError) in
                try JSONParser.parse(bytes)
            }
        } catch {
            throw problem("not valid JSON: \(error.message)", at: valueStart + error.offset, path: path)
        }
    }

    /// Follows a value's bytes from `start`: returns where it ends (`finished`), or where the buffer ran out.
    private static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, depth: inout Int, inString: inout Bool
    ) -> (Int, Bool) {
        var index = start
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    if index + 1 >= count { return (index, false) }  // the escaped byte is in the next block
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return (index + 1, true) }
                }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return (index, true) }
                depth -= 1
                if depth == 0 { return (index + 1, true) }
            case UInt8(ascii: ","), 0x20, 0x09, 0x0A, 0x0D:
                if depth == 0 { return (index, true) }
            default: break
            }
            index += 1
        }
        return (index, false)
    }

    /// Skips whitespace and reports whether the file has ended.
    func atEnd() throws(ImportProblem) -> Bool { try peek() == nil }

    /// The next line (without its newline) parsed as JSON; nil at the end. Empty lines are skipped.
    func line(path: String) throws(ImportProblem) -> JSON? {
        guard try peek() != nil else { return nil }
        let value = try value(path: path)
        // A line holds one value: what follows it on the same line must be nothing but spaces.
        while true {
            if position >= buffer.count {
                guard try fill() else { break }
            }
            let byte = buffer[position]
            if byte == 0x0A { return value }
            guard byte == 0x20 || byte == 0x09 || byte == 0x0D else {
                throw problem("expected the end of the line after the JSON value", path: path)
            }
            position += 1
        }
        return value
    }
}
