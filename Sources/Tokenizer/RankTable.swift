#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The byte-sequence -> rank map that BPE queries millions of times per second.
//
// Why not `[[UInt8]: Int]`: every lookup would hash through the generic Hasher
// and every key would be its own heap array. Here all token bytes live in one
// flat buffer and an open-addressing table (linear probing, load factor < 0.4)
// stores, per slot, the first 8 key bytes packed into a UInt64, the rank, and
// the key's length and offset. Keys of <= 8 bytes (90 % of cl100k) are compared
// with one integer compare; longer keys fall back to memcmp on the tail.

/// One slot: `lenOffset == 0` marks an empty slot (keys are never empty).
struct RankSlot {
    var key0: UInt64 = 0
    var rank: UInt32 = 0
    /// `length << 24 | offset` into the flat byte buffer.
    var lenOffset: UInt32 = 0
}

/// Immutable after `init`, so sharing it across threads is safe; the raw
/// pointers are what makes the checker unable to prove it, hence `@unchecked`.
final class RankTable: @unchecked Sendable {
    static let maxTokenLength = 255
    static let maxTotalBytes = 1 << 24

    let bytes: UnsafeMutablePointer<UInt8>
    let byteCount: Int
    let slots: UnsafeMutablePointer<RankSlot>
    let slotMask: Int
    let hashShift: UInt64
    /// Rank of each single byte, so one-byte pieces skip hashing.
    let byteRanks: UnsafeMutablePointer<UInt32>
    let count: Int

    /// Builds the table. `tokens` are (offset, length, rank) into `flat`.
    /// Throws on duplicate keys or when a single byte has no rank.
    init(flat: [UInt8], tokens: [(offset: Int, length: Int, rank: UInt32)], lines: [Int]) throws {
        byteCount = flat.count
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, flat.count))
        flat.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { buffer.initialize(from: base, count: flat.count) }
        }
        bytes = buffer
        var capacity = 1024
        while capacity < tokens.count * 5 / 2 { capacity <<= 1 }
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: RankSlot(), count: capacity)
        slotMask = capacity - 1
        hashShift = UInt64(64 - capacity.trailingZeroBitCount)
        byteRanks = .allocate(capacity: 256)
        byteRanks.initialize(repeating: .max, count: 256)
        count = tokens.count
        for (index, token) in tokens.enumerated() {
            let p = UnsafePointer(bytes + token.offset)
            if !insert(p, token.length, offset: token.offset, rank: token.rank) {
                throw TokenizerError.duplicateToken(line: lines[index])
            }
            if token.length == 1 { byteRanks[Int(p[0])] = token.rank }
        }
        if let missing = (0..<256).first(where: { byteRanks[$0] == .max }) {
            throw TokenizerError.unusableRanks(reason: "byte 0x\(String(missing, radix: 16)) has no rank")
        }
    }

    deinit {
        bytes.deallocate()
        slots.deallocate()
        byteRanks.deallocate()
    }

    /// Bytes held by the table's own buffers (the memory figure the bench prints).
    var memoryFootprint: Int {
        byteCount + (slotMask + 1) * MemoryLayout<RankSlot>.stride + 256 * 4
    }

    private func insert(_ p: UnsafePointer<UInt8>, _ len: Int, offset: Int, rank: UInt32) -> Bool {
        let k0 = RankTable.pack(p, len)
        var i = slotIndex(p, len, k0)
        while slots[i].lenOffset != 0 {
            if equal(slots[i], p, len, k0) { return false }
            i = (i + 1) & slotMask
        }
        slots[i] = RankSlot(key0: k0, rank: rank, lenOffset: UInt32(len << 24 | offset))
        return true
    }

    /// Rank of the `len` bytes at `p`, or `UInt32.max` when they are not a token.
    @inline(__always)
    func rank(_ p: UnsafePointer<UInt8>, _ len: Int) -> UInt32 {
        if len == 1 { return byteRanks[Int(p[0])] }
        let k0 = RankTable.pack(p, len)
        var i = slotIndex(p, len, k0)
        while true {
            let slot = slots[i]
            if slot.lenOffset == 0 { return .max }
            if equal(slot, p, len, k0) { return slot.rank }
            i = (i + 1) & slotMask
        }
    }

    @inline(__always)
    private func equal(_ slot: RankSlot, _ p: UnsafePointer<UInt8>, _ len: Int, _ k0: UInt64) -> Bool {
        guard slot.key0 == k0, Int(slot.lenOffset >> 24) == len else { return false }
        if len <= 8 { return true }
        let stored = UnsafePointer(bytes + Int(slot.lenOffset & 0x00ff_ffff))
        // 9...16 bytes: the (overlapping) last 8 bytes settle it without a call.
        if len <= 16 { return RankTable.load64(stored + len - 8) == RankTable.load64(p + len - 8) }
        return memcmp(stored + 8, p + 8, len - 8) == 0
    }

    @inline(__always)
    private func slotIndex(_ p: UnsafePointer<UInt8>, _ len: Int, _ k0: UInt64) -> Int {
        var h = k0 ^ (UInt64(truncatingIfNeeded: len) &* 0x9e37_79b9_7f4a_7c15)
        if len > 8 {
            var i = 8
            while i + 8 <= len {
                h = (h ^ RankTable.load64(p + i)) &* 0xff51_afd7_ed55_8ccd
                h ^= h >> 32
                i += 8
            }
            if i < len {  // overlapping load of the last 8 bytes: deterministic per key
                h = (h ^ RankTable.load64(p + len - 8)) &* 0xff51_afd7_ed55_8ccd
                h ^= h >> 32
            }
        }
        h = (h ^ (h >> 29)) &* 0xbf58_476d_1ce4_e5b9
        return Int(truncatingIfNeeded: h >> hashShift) & slotMask
    }

    @inline(__always)
    static func load64(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    static func load32(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self)))
    }

    /// The first min(len, 8) bytes, little-endian, zero above. Overlapping
    /// loads avoid a byte loop: the overlapped bytes are equal, so OR is exact.
    @inline(__always)
    static func pack(_ p: UnsafePointer<UInt8>, _ len: Int) -> UInt64 {
        if len >= 8 { return load64(p) }
        if len >= 4 { return load32(p) | (load32(p + len - 4) << UInt64(8 * (len - 4))) }
        if len == 0 { return 0 }
        let mid = len >> 1
        return UInt64(p[0]) | (UInt64(p[mid]) << UInt64(8 * mid)) | (UInt64(p[len - 1]) << UInt64(8 * (len - 1)))
    }
}
