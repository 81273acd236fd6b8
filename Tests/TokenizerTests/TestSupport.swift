import Foundation
import Testing

@testable import Tokenizer

/// One document of `Fixtures/token-fixtures.json` (tiktoken 0.14 cl100k_base
/// `encode_ordinary` output; see /work/shared/fixtures/README.md upstream).
struct FixtureDocument: Decodable, Sendable {
    let id: String
    let tokens: Int
    let ids_sha256: String
    let ids: [Int]?
    let text: String
}

struct FixtureFile: Decodable, Sendable {
    let ranks_file_sha256: String
    let docs: [FixtureDocument]
}

/// Loaded once per test process; both values are immutable and Sendable.
enum Shared {
    static let encoding: TokenEncoding? = {
        guard let url = TokenEncoding.bundledRanksURL() else { return nil }
        return try? TokenEncoding.load(contentsOf: url, expectedSHA256: TokenEncoding.cl100kSHA256)
    }()

    static let fixtures: FixtureFile? = {
        guard let url = Bundle.module.url(forResource: "token-fixtures", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return try? JSONDecoder().decode(FixtureFile.self, from: data)
    }()

    /// The exact encoder, failing the calling test when the bundled file is unusable.
    static func requireEncoding() throws -> TokenEncoding {
        try #require(encoding, "bundled cl100k_base.tiktoken did not load")
    }
}

/// sha256 hex of the ids joined by ",", the fixtures' `ids_sha256`.
func idsDigest(_ ids: [Int]) -> String {
    PureSHA256.hexDigest(ids.map(String.init).joined(separator: ","))
}
