// Hand-coded equivalent of the cl100k_base pre-tokenisation regex
//
//   '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+
//   | ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
//
// run the way fancy-regex runs it for tiktoken: at each position the
// alternatives are tried in order and the first that matches wins; the
// scanner never backtracks into an earlier piece. It walks UTF-8 bytes of a
// valid String, decoding scalars only where a non-ASCII byte appears.

/// Splits UTF-8 text into the pieces that BPE then encodes one at a time.
struct PieceScanner {
    let p: UnsafePointer<UInt8>
    let n: Int
    /// `ScalarClass.basicPlane`, passed in as a pointer to keep the loops check-free.
    let table: UnsafePointer<UInt8>

    /// Class and UTF-8 length of the scalar starting at byte `i` (< n).
    @inline(__always)
    func classify(_ i: Int) -> (UInt8, Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (table[Int(b0)], 1) }
        let value: UInt32
        let length: Int
        if b0 < 0xe0 {
            value = UInt32(b0 & 0x1f) << 6 | UInt32(p[i + 1] & 0x3f)
            length = 2
        } else if b0 < 0xf0 {
            value = UInt32(b0 & 0x0f) << 12 | UInt32(p[i + 1] & 0x3f) << 6 | UInt32(p[i + 2] & 0x3f)
            length = 3
        } else {
            value =
                UInt32(b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3f) << 12
                | UInt32(p[i + 2] & 0x3f) << 6 | UInt32(p[i + 3] & 0x3f)
            return (ScalarClass.compute(value), 4)
        }
        return (table[Int(value)], length)
    }

    /// End (exclusive byte offset) of the piece that starts at `i` (< n).
    func pieceEnd(from i: Int) -> Int {
        let b0 = p[i]
        // '(?i:[sdmt]|ll|ve|re): tried first, so "'s" never becomes "'s..." letters.
        if b0 == 0x27, let length = contractionLength(after: i + 1) { return i + 1 + length }
        let (c0, l0) = classify(i)
        // [^\r\n\p{L}\p{N}]?+\p{L}++ : letters, optionally led by one scalar that
        // is neither \r, \n, letter nor number (a space, tab, punctuation...).
        if c0 == ScalarClass.letter { return run(of: ScalarClass.letter, from: i + l0) }
        if (c0 == ScalarClass.other || c0 == ScalarClass.space) && i + l0 < n {
            let (c1, l1) = classify(i + l0)
            if c1 == ScalarClass.letter { return run(of: ScalarClass.letter, from: i + l0 + l1) }
        }
        // \p{N}{1,3}+ : at most three numbers per piece.
        if c0 == ScalarClass.number {
            var j = i + l0
            var taken = 1
            while taken < 3 && j < n {
                let (c, l) = classify(j)
                if c != ScalarClass.number { break }
                j += l
                taken += 1
            }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]++[\r\n]*+` : punctuation run, optional leading space,
        // trailing \r\n swallowed. With no punctuation after the space it fails
        // outright (backing off the space leaves a space, which is \s).
        var j = i
        var cj = c0
        if b0 == 0x20 {
            j = i + 1
            cj = j < n ? classify(j).0 : ScalarClass.space
        }
        if cj == ScalarClass.other {
            j = run(of: ScalarClass.other, from: j)
            while j < n && (p[j] == 0x0a || p[j] == 0x0d) { j += 1 }
            return j
        }
        // Only white space is left at `i`. Measure its maximal run once.
        var end = i
        var lastNewlineEnd = -1
        var lastStart = i
        var count = 0
        while end < n {
            let (c, l) = classify(end)
            if c != ScalarClass.space && c != ScalarClass.newline { break }
            if c == ScalarClass.newline { lastNewlineEnd = end + l }
            lastStart = end
            end += l
            count += 1
        }
        if end == n { return n }  // \s++$ : the run reaches the end of the text.
        if lastNewlineEnd >= 0 { return lastNewlineEnd }  // \s*[\r\n] : up to the last newline.
        if count >= 2 { return lastStart }  // \s+(?!\S) : leave one space for the next word.
        return i + l0  // \s
    }

    /// End of the maximal run of scalars of class `cls` starting at `j`.
    @inline(__always)
    private func run(of cls: UInt8, from start: Int) -> Int {
        var j = start
        while j < n {
            let (c, l) = classify(j)
            if c != cls { break }
            j += l
        }
        return j
    }

    /// Bytes matched by `(?i:[sdmt]|ll|ve|re)` at `j`, or nil. Case-insensitive
    /// the Unicode way, as in the regex crate: U+017F LATIN SMALL LETTER LONG S
    /// folds to "s" (no other scalar folds onto these letters).
    @inline(__always)
    private func contractionLength(after j: Int) -> Int? {
        guard j < n else { return nil }
        let c = p[j] | 0x20  // ASCII lower-case; harmless for the bytes compared below
        if c == 0x73 || c == 0x64 || c == 0x6d || c == 0x74 { return 1 }  // s d m t
        if p[j] == 0xc5 && j + 1 < n && p[j + 1] == 0xbf { return 2 }  // ſ
        guard j + 1 < n else { return nil }
        let c2 = p[j + 1] | 0x20
        if c == 0x6c && c2 == 0x6c { return 2 }  // ll
        if (c == 0x76 || c == 0x72) && c2 == 0x65 { return 2 }  // ve re
        return nil
    }
}
