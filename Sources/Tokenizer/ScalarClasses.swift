// The cl100k pre-tokenisation regex only ever asks five questions of a
// scalar: is it \r or \n, other white space, a letter (\p{L}), a number
// (\p{N}), or anything else. We answer them with one byte per scalar.
//
// Definitions follow the Rust regex crate that tiktoken uses:
//   \s    = Unicode White_Space        (Swift: properties.isWhitespace)
//   \p{L} = Lu | Ll | Lt | Lm | Lo     (Swift: generalCategory)
//   \p{N} = Nd | Nl | No
// White_Space scalars are all Zs/Zl/Zp/Cc, so the classes never overlap.
//
// Unicode version: tiktoken 0.14's regex tables are Unicode 16.0, while the
// Swift 6.3 standard library already knows Unicode 17.0. The 4,657 letters and
// numbers first assigned in 17.0 (CJK Extension J, Tangut and Khitan additions,
// new scripts) are unassigned - hence "other" - for tiktoken, so we treat any
// scalar newer than `regexUnicodeVersion` as other. Verified code point by code
// point with `tokenizer-bench --unicode-check`. A toolchain whose Unicode
// is OLDER than 16.0 would misclassify the 16.0 additions; rerun that check
// after a toolchain change.

/// Class codes used by `PieceScanner`.
enum ScalarClass {
    static let other: UInt8 = 0
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    /// White space other than \r and \n.
    static let space: UInt8 = 3
    /// \r or \n, which several alternatives of the regex single out.
    static let newline: UInt8 = 4

    /// Unicode version of the Rust regex crate tables that tiktoken 0.14 uses.
    static let regexUnicodeVersion = (major: 16, minor: 0)

    /// Classifies one code point through the standard library's Unicode tables.
    static func compute(_ value: UInt32) -> UInt8 {
        if value == 0x0a || value == 0x0d { return newline }
        guard let scalar = Unicode.Scalar(value) else { return other }  // surrogate code points
        let properties = scalar.properties
        if properties.isWhitespace { return space }
        let cls: UInt8
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            cls = letter
        case .decimalNumber, .letterNumber, .otherNumber:
            cls = number
        default:
            return other
        }
        return knownToRegex(properties) ? cls : other
    }

    /// Whether the scalar was assigned by `regexUnicodeVersion`.
    private static func knownToRegex(_ properties: Unicode.Scalar.Properties) -> Bool {
        guard let age = properties.age else { return false }
        let v = regexUnicodeVersion
        return age.major < v.major || (age.major == v.major && age.minor <= v.minor)
    }

    /// Class of every Basic Multilingual Plane code point, computed once per
    /// process (64 KiB). Looking the stdlib tables up per scalar in the hot
    /// loop would be several times slower; scalars above U+FFFF (mostly
    /// emoji) are rare enough to classify on the fly. Immutable, so Sendable.
    static let basicPlane: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }
}
