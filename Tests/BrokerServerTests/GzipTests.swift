import Foundation
import Gzip
import Testing

/// The zlib stream wrappers trace bundles are written and read with: round trips in odd pieces, the system's
/// gunzip, truncation, and multi-member files.
@Suite("Gzip")
struct GzipTests {
    /// Bytes of a seeded generator, so a failure can be reproduced.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    static let repetitive = Array(
        (0..<20_000).map { "{\"source\":\"messages\",\"entry\":{\"seq\":\($0),\"content\":\"hello world\"}}\n" }
            .joined().utf8)

    /// Hands `input` to `body` in pieces of the given sizes, cycled.
    static func inPieces(
        _ input: [UInt8], _ pieces: [Int], _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        var offset = 0
        var index = 0
        while offset < input.count {
            let size = min(pieces[index % pieces.count], input.count - offset)
            index += 1
            try input[offset..<offset + size].withUnsafeBytes(body)
            offset += size
        }
    }

    /// Compresses `input` handed over in pieces of the given sizes (cycled), finishing with an empty piece.
    static func compress(_ input: [UInt8], pieces: [Int], level: Int32 = 1) throws -> [UInt8] {
        let compressor = try GzipCompressor(level: level)
        var output: [UInt8] = []
        try inPieces(input, pieces) { bytes in try compressor.compress(bytes) { output.append(contentsOf: $0) } }
        try compressor.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) {
            output.append(contentsOf: $0)
        }
        return output
    }

    /// Decompresses `input` in pieces; returns the text and whether the last member ended cleanly.
    static func decompress(_ input: [UInt8], pieces: [Int]) throws -> (bytes: [UInt8], complete: Bool) {
        let decompressor = try GzipDecompressor()
        var output: [UInt8] = []
        try inPieces(input, pieces) { bytes in try decompressor.decompress(bytes) { output.append(contentsOf: $0) } }
        return (output, decompressor.atMemberEnd)
    }

    @Test("random and repetitive data round-trip through pieces of odd sizes, at levels 1 and 9")
    func roundTrip() throws {
        let inputs: [(String, [UInt8])] = [
            ("empty", []), ("one byte", [0x41]), ("random", Self.randomBytes(700_001, seed: 42)),
            ("repetitive", Self.repetitive),
        ]
        for (name, input) in inputs {
            for level: Int32 in [1, 9] {
                let compressed = try Self.compress(input, pieces: [1, 7, 4_093, 65_537, 300_000], level: level)
                #expect(Array(compressed.prefix(2)) == [0x1F, 0x8B], "\(name): not a gzip header")
                for pieces in [[1, 2, 3], [13], [4_096], [1 << 20]] where compressed.count < 200_000 || pieces[0] > 3 {
                    let (output, complete) = try Self.decompress(compressed, pieces: pieces)
                    #expect(output == input, "\(name) at level \(level) in pieces of \(pieces)")
                    #expect(complete, "\(name) at level \(level) in pieces of \(pieces)")
                }
            }
        }
        let small = try Self.compress(Self.repetitive, pieces: [1_000])
        #expect(small.count * 10 < Self.repetitive.count, "repetitive JSONL should shrink: \(small.count) bytes")
    }

    @Test("the system's gunzip reads what the compressor writes")
    func systemGunzip() throws {
        let directory = TestBroker.makeDirectory()
        for (name, input) in [("random", Self.randomBytes(100_003, seed: 7)), ("repetitive", Self.repetitive)] {
            let path = directory + "/\(name).gz"
            try Data(try Self.compress(input, pieces: [3, 10_000])).write(to: URL(fileURLWithPath: path))
            let unpacked = directory + "/\(name)"
            let run = try Processes.run("/bin/sh", ["-c", "gunzip -c \(path) > \(unpacked) && gzip -t \(path)"])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: unpacked)) == Data(input), "\(name)")
        }
        // And the other way: gzip's own output decompresses.
        let text = directory + "/plain.txt"
        try Data(Self.repetitive).write(to: URL(fileURLWithPath: text))
        #expect(try Processes.run("/bin/sh", ["-c", "gzip -9 -k \(text)"]).status == 0)
        let system = [UInt8](try Data(contentsOf: URL(fileURLWithPath: text + ".gz")))
        let (output, complete) = try Self.decompress(system, pieces: [17])
        #expect(output == Self.repetitive && complete)
    }

    @Test("a truncated stream is detected: atMemberEnd stays false wherever it is cut")
    func truncation() throws {
        let input = Self.randomBytes(50_000, seed: 3) + Self.repetitive.prefix(50_000)
        let compressed = try Self.compress(input, pieces: [8_192])
        for cut in [
            0, 1, 2, 9, 10, 11, 100, compressed.count / 2, compressed.count - 9, compressed.count - 8,
            compressed.count - 4, compressed.count - 1,
        ] {
            let (output, complete) = try Self.decompress(Array(compressed.prefix(cut)), pieces: [777])
            #expect(!complete, "cut at \(cut) of \(compressed.count) looks complete")
            #expect(output.count <= input.count && Array(input.prefix(output.count)) == output, "cut at \(cut)")
        }
        #expect(try Self.decompress(compressed, pieces: [777]).complete)
        // Data that is not gzip at all is refused.
        let decompressor = try GzipDecompressor()
        #expect(throws: (any Error).self) {
            try Array("not gzip at all, just text".utf8).withUnsafeBytes { bytes in
                try decompressor.decompress(bytes) { _ in }
            }
        }
    }

    @Test("two concatenated members (cat a.gz b.gz) decompress to both, in any piece sizes")
    func concatenatedMembers() throws {
        let first = Array("first member\n".utf8) + Self.randomBytes(10_000, seed: 1)
        let second = Array("second member\n".utf8) + Self.repetitive.prefix(30_000)
        let a = try Self.compress(first, pieces: [4_096])
        let b = try Self.compress(second, pieces: [4_096])
        for pieces in [[1], [5], [a.count], [a.count + 3], [1 << 20]] {
            let (output, complete) = try Self.decompress(a + b, pieces: pieces)
            #expect(output == first + second, "pieces of \(pieces)")
            #expect(complete, "pieces of \(pieces)")
        }
        // The second member cut short: not complete, whether the cut is in its data or in its header.
        // A second member cut inside its header (or before its first output byte) is truncated too:
        // `brokerctl traces import` must not take such a file for complete.
        for cut in [b.count / 2, 5, 10] {
            let (output, complete) = try Self.decompress(a + b.prefix(cut), pieces: [4_096])
            #expect(!complete, "second member cut at \(cut) of \(b.count) looks complete")
            #expect(Array(output.prefix(first.count)) == first)
        }
    }
}
