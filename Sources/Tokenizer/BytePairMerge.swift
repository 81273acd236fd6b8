// tiktoken's byte-pair merge: start from single bytes, repeatedly merge the
// adjacent pair whose concatenation has the lowest rank (leftmost on ties),
// stop when no adjacent pair is a token. Output must equal tiktoken's exactly,
// so both paths below pick merges in precisely that order.
//
// Short pieces (the vast majority) use tiktoken's own O(n^2) scan over a small
// array in caller-provided scratch memory: no allocation. Long pieces (runs of
// 'a' or of spaces, base64 blobs) would make that quadratic, so they use a
// min-heap keyed by (rank, start) plus a linked list of parts, which yields the
// same merge sequence in O(n log n).

enum BytePairMerge {
    /// Longest piece handled by the quadratic scan; scratch must hold 2 * (limit + 2) words.
    static let shortLimit = 96

    /// Calls `emit(start, end)` for each final part of `piece[0..<len]`, in order.
    /// `scratch` must hold at least `2 * (shortLimit + 2)` UInt32s.
    @inline(__always)
    static func merge(
        _ piece: UnsafePointer<UInt8>, _ len: Int, _ table: RankTable,
        _ scratch: UnsafeMutablePointer<UInt32>, _ emit: (Int, Int) -> Void
    ) {
        if len <= shortLimit {
            mergeShort(piece, len, table, scratch, emit)
        } else {
            mergeLong(piece, len, table, emit)
        }
    }

    /// tiktoken's `_byte_pair_merge`: parts[i] = (start, rank of parts i and i+1).
    static func mergeShort(
        _ piece: UnsafePointer<UInt8>, _ len: Int, _ table: RankTable,
        _ scratch: UnsafeMutablePointer<UInt32>, _ emit: (Int, Int) -> Void
    ) {
        let starts = scratch
        let ranks = scratch + (shortLimit + 2)
        var count = len + 1  // includes the sentinel part at `len`
        var minRank = UInt32.max
        var minIndex = 0
        for i in 0..<(len - 1) {
            let r = table.rank(piece + i, 2)
            if r < minRank { minRank = r; minIndex = i }
            starts[i] = UInt32(i)
            ranks[i] = r
        }
        starts[len - 1] = UInt32(len - 1); ranks[len - 1] = .max
        starts[len] = UInt32(len); ranks[len] = .max

        // Rank of parts i and i+1 merged, i.e. bytes starts[i] ..< starts[i + 2].
        @inline(__always) func pairRank(_ i: Int) -> UInt32 {
            guard i + 2 < count else { return .max }  // tiktoken: i + 3 < parts.len() before removal
            let s = Int(starts[i])
            return table.rank(piece + s, Int(starts[i + 2]) - s)
        }

        while minRank != .max {
            let i = minIndex
            // Remove part i+1 first so pairRank sees the merged part at i.
            (starts + i + 1).update(from: starts + i + 2, count: count - i - 2)
            (ranks + i + 1).update(from: ranks + i + 2, count: count - i - 2)
            count -= 1
            if i > 0 { ranks[i - 1] = pairRank(i - 1) }
            ranks[i] = pairRank(i)
            minRank = .max
            for k in 0..<(count - 1) where ranks[k] < minRank {
                minRank = ranks[k]
                minIndex = k
            }
        }
        for k in 0..<(count - 1) { emit(Int(starts[k]), Int(starts[k + 1])) }
    }

    /// Same merge order via a lazy-deletion min-heap of `rank << 32 | start`:
    /// the smallest key is the lowest rank, leftmost on ties, like the scan.
    static func mergeLong(
        _ piece: UnsafePointer<UInt8>, _ len: Int, _ table: RankTable, _ emit: (Int, Int) -> Void
    ) {
        // Parts are identified by their start byte, which never changes.
        // Raw buffers rather than arrays: the nested pairRank would otherwise
        // capture mutable arrays and pay dynamic exclusivity checks per access.
        let next = UnsafeMutablePointer<Int32>.allocate(capacity: len + 1)
        let prev = UnsafeMutablePointer<Int32>.allocate(capacity: len + 1)
        let rank = UnsafeMutablePointer<UInt32>.allocate(capacity: len + 1)
        defer { next.deallocate(); prev.deallocate(); rank.deallocate() }
        var heap = MinHeap(capacity: len)
        for i in 0...len {
            next[i] = Int32(i + 1)
            prev[i] = Int32(i - 1)
            rank[i] = .max
        }
        for i in 0..<(len - 1) {
            rank[i] = table.rank(piece + i, 2)
            if rank[i] != .max { heap.push(UInt64(rank[i]) << 32 | UInt64(i)) }
        }
        // Rank of part `i` merged with its right neighbour.
        func pairRank(_ i: Int) -> UInt32 {
            let j = Int(next[i])
            guard j < len else { return .max }
            let end = Int(next[j])
            return table.rank(piece + i, end - i)
        }
        while let top = heap.pop() {
            let i = Int(top & 0xffff_ffff)
            let r = UInt32(top >> 32)
            if rank[i] != r { continue }  // stale: part merged away or its pair changed
            let j = Int(next[i])
            // Merge j into i.
            rank[j] = .max
            next[i] = next[j]
            if Int(next[j]) <= len { prev[Int(next[j])] = Int32(i) }
            rank[i] = pairRank(i)
            if rank[i] != .max { heap.push(UInt64(rank[i]) << 32 | UInt64(i)) }
            let h = Int(prev[i])
            if h >= 0 {
                rank[h] = pairRank(h)
                if rank[h] != .max { heap.push(UInt64(rank[h]) << 32 | UInt64(h)) }
            }
        }
        var i = 0
        while i < len {
            let j = Int(next[i])
            emit(i, j)
            i = j
        }
    }
}

/// Binary min-heap of UInt64 keys, just enough for `mergeLong`.
struct MinHeap {
    private var items: [UInt64] = []

    init(capacity: Int) { items.reserveCapacity(capacity) }

    mutating func push(_ key: UInt64) {
        items.append(key)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent] <= key { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = key
    }

    mutating func pop() -> UInt64? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return top }
        var i = 0
        let n = items.count
        while true {
            let left = 2 * i + 1
            if left >= n { break }
            var child = left
            if left + 1 < n && items[left + 1] < items[left] { child = left + 1 }
            if items[child] >= last { break }
            items[i] = items[child]
            i = child
        }
        items[i] = last
        return top
    }
}
