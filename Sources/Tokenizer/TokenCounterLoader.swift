import Foundation

/// What ``TokenCounterLoader`` produced: the counter to use and, when it had
/// to fall back to the estimate, why.
public struct TokenCounterLoadResult: Sendable {
    /// The exact ``TokenEncoding`` or, on failure, an ``ApproximateTokenCounter``.
    public let counter: any TokenCounter
    /// Nil when exact; otherwise a one-line reason suitable for a log or a status field.
    public let failure: String?
    /// The ranks file that was tried, if any.
    public let ranksURL: URL?

    /// Whether `counter` is the exact encoder.
    public var isExact: Bool { counter.isExact }
}

/// Loads the exact counter and degrades to the estimate on any failure
/// (missing file, wrong hash, malformed content) instead of crashing, so a
/// broker without its ranks file still runs, with its counts labelled inexact.
public enum TokenCounterLoader {
    /// Environment variable holding a ranks-file path that overrides the bundled one.
    public static let environmentVariable = "AGENTBROKER_TOKEN_RANKS"

    /// Tries `url`; falls back to ``ApproximateTokenCounter`` with the reason.
    ///
    /// - Parameters:
    ///   - url: the ranks file, or nil when none could be located.
    ///   - expectedSHA256: required digest (default: cl100k_base's); nil skips the check.
    public static func load(
        from url: URL?, expectedSHA256: String? = TokenEncoding.cl100kSHA256
    ) -> TokenCounterLoadResult {
        guard let url else {
            return TokenCounterLoadResult(
                counter: ApproximateTokenCounter(), failure: "no token ranks file found", ranksURL: nil)
        }
        do {
            let encoding = try TokenEncoding.load(contentsOf: url, expectedSHA256: expectedSHA256)
            return TokenCounterLoadResult(counter: encoding, failure: nil, ranksURL: url)
        } catch let error as TokenizerError {
            return TokenCounterLoadResult(counter: ApproximateTokenCounter(), failure: error.description, ranksURL: url)
        } catch {
            return TokenCounterLoadResult(
                counter: ApproximateTokenCounter(), failure: "\(error)", ranksURL: url)
        }
    }

    /// Loads from ``ranksURL(environment:)`` with the cl100k_base hash check.
    /// The override is hash-checked too: exact counts are only claimed for the
    /// canonical file.
    public static func loadDefault(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> TokenCounterLoadResult {
        load(from: ranksURL(environment: environment))
    }

    /// `AGENTBROKER_TOKEN_RANKS` when set and non-empty, else the bundled file.
    public static func ranksURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let path = environment[environmentVariable], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return TokenEncoding.bundledRanksURL()
    }
}
