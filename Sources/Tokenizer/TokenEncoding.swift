import Foundation

/// An exact cl100k_base byte-pair encoder: the same token ids as tiktoken's
/// `encode_ordinary`, so special-token strings such as `<|endoftext|>` are
/// encoded as plain text.
///
/// Load it once with ``load(contentsOf:expectedSHA256:)`` and share it freely:
/// it is immutable and `Sendable`, and `encode`/`count` keep all their working
/// memory on the calling thread, so any number of threads may use one value.
public struct TokenEncoding: Sendable {
    /// SHA-256 of the canonical `cl100k_base.tiktoken` ranks file.
    public static let cl100kSHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

    let table: RankTable
    /// `ScalarClass.basicPlane`, held here so a load pays for building it.
    let classes: [UInt8]

    /// Number of ranked byte sequences (100,256 for cl100k_base).
    public var vocabularySize: Int { table.count }

    /// Bytes held by the loaded lookup structures (token bytes, hash table,
    /// scalar-class table), excluding allocator overhead.
    public var memoryFootprint: Int { table.memoryFootprint + classes.count }

    /// Reads, verifies and indexes a tiktoken ranks file.
    ///
    /// - Parameters:
    ///   - url: a file URL of `base64 rank` lines.
    ///   - expectedSHA256: lower- or upper-case hex digest the file must have,
    ///     or nil to skip the check (tests and custom vocabularies).
    /// - Throws: ``TokenizerError`` when the file is unreadable, has another
    ///   digest, or is not a usable ranks file.
    public static func load(contentsOf url: URL, expectedSHA256: String?) throws -> TokenEncoding {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try data.withUnsafeBytes { try load(bytes: $0, expectedSHA256: expectedSHA256) }
    }

    /// Same as ``load(contentsOf:expectedSHA256:)`` for ranks already in memory.
    public static func load(bytes: UnsafeRawBufferPointer, expectedSHA256: String?) throws -> TokenEncoding {
        if let expected = expectedSHA256 {
            let actual = PureSHA256.hex(PureSHA256.digest(bytes))
            guard actual == expected.lowercased() else {
                throw TokenizerError.hashMismatch(expected: expected.lowercased(), actual: actual)
            }
        }
        let parsed = try RanksFileParser.parse(bytes)
        let table = try RankTable(flat: parsed.flat, tokens: parsed.tokens, lines: parsed.lines)
        return TokenEncoding(table: table, classes: ScalarClass.basicPlane)
    }

    /// The ranks file shipped inside this module's resource bundle, if present.
    public static func bundledRanksURL() -> URL? {
        ResourceLocator.bundledRanksURL()
    }

    /// Token ids of `text`, identical to tiktoken cl100k_base `encode_ordinary`.
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        withUTF8(text) { buffer in
            ids.reserveCapacity(buffer.count / 3 + 1)
            forEachPiece(buffer) { piece, len, scratch in
                if len == 1 {
                    ids.append(Int(table.byteRanks[Int(piece[0])]))
                    return
                }
                let whole = table.rank(piece, len)
                if whole != .max {
                    ids.append(Int(whole))
                    return
                }
                BytePairMerge.merge(piece, len, table, scratch) { start, end in
                    // Every final part is a token: parts only merge into ranked sequences.
                    ids.append(Int(table.rank(piece + start, end - start)))
                }
            }
        }
        return ids
    }

    /// Number of tokens `encode(text)` would return, without building the array
    /// and without looking up the ids of BPE-merged parts.
    public func count(_ text: String) -> Int {
        var total = 0
        withUTF8(text) { buffer in
            forEachPiece(buffer) { piece, len, scratch in
                if len == 1 || table.rank(piece, len) != .max {
                    total += 1
                    return
                }
                BytePairMerge.merge(piece, len, table, scratch) { _, _ in total += 1 }
            }
        }
        return total
    }

    /// Pre-tokenised pieces of `text` as strings (for tests and diagnostics).
    func pieces(_ text: String) -> [String] {
        var out: [String] = []
        withUTF8(text) { buffer in
            forEachPiece(buffer) { piece, len, _ in
                out.append(String(decoding: UnsafeBufferPointer(start: piece, count: len), as: UTF8.self))
            }
        }
        return out
    }

    /// Runs `body` over contiguous UTF-8; native Swift strings already are.
    @inline(__always)
    private func withUTF8(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if text.utf8.withContiguousStorageIfAvailable(body) == nil {
            Array(text.utf8).withUnsafeBufferPointer(body)
        }
    }

    /// Calls `body(piece, length, scratch)` for each regex piece. The scratch
    /// words live on this thread's stack and are reused by every piece.
    @inline(__always)
    private func forEachPiece(
        _ buffer: UnsafeBufferPointer<UInt8>,
        _ body: (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<UInt32>) -> Void
    ) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        classes.withUnsafeBufferPointer { classTable in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * (BytePairMerge.shortLimit + 2)) { scratch in
                let scanner = PieceScanner(p: base, n: buffer.count, table: classTable.baseAddress!)
                var start = 0
                while start < buffer.count {
                    let end = scanner.pieceEnd(from: start)
                    body(base + start, end - start, scratch.baseAddress!)
                    start = end
                }
            }
        }
    }
}
