/// Why a ranks file could not be turned into a ``TokenEncoding``.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read (missing, unreadable); carries the path and the system reason.
    case unreadable(path: String, reason: String)
    /// The file's SHA-256 differs from the expected one.
    case hashMismatch(expected: String, actual: String)
    /// A line is not `base64 SPACE rank`; `line` is 1-based.
    case malformedLine(line: Int, reason: String)
    /// The same token bytes appear twice.
    case duplicateToken(line: Int)
    /// The file parsed but cannot drive byte-level BPE (e.g. a single byte has no rank).
    case unusableRanks(reason: String)

    /// A one-line human-readable explanation, used as the fallback reason.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "token ranks file unreadable at \(path): \(reason)"
        case .hashMismatch(let expected, let actual):
            return "token ranks file sha256 mismatch: expected \(expected), got \(actual)"
        case .malformedLine(let line, let reason):
            return "token ranks file malformed at line \(line): \(reason)"
        case .duplicateToken(let line):
            return "token ranks file repeats a token at line \(line)"
        case .unusableRanks(let reason):
            return "token ranks file unusable: \(reason)"
        }
    }
}
