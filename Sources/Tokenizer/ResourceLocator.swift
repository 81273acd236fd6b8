import Foundation

/// Finds the ranks file copied into this module's resource bundle.
///
/// SwiftPM's generated `Bundle.module` calls `fatalError` when it cannot find
/// the bundle (e.g. a binary copied somewhere without its `*.resources`
/// folder). A missing ranks file must degrade to the approximate counter, not
/// crash the broker, so we only touch `Bundle.module` after checking that the
/// bundle folder it looks for first (next to the executable) is there.
enum ResourceLocator {
    static let resourceName = "cl100k_base"
    static let resourceExtension = "tiktoken"

    static func bundledRanksURL() -> URL? {
        guard resourceBundleIsBesideExecutable() else { return nil }
        return Bundle.module.url(forResource: resourceName, withExtension: resourceExtension)
    }

    /// True when `<package>_Tokenizer.resources` (Linux) or `.bundle` (Apple)
    /// sits in the main bundle's folder, which is where `Bundle.module` looks
    /// first. The package name differs between this dev package and the main
    /// repo, hence the suffix match.
    private static func resourceBundleIsBesideExecutable() -> Bool {
        let folder = Bundle.main.bundleURL.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return false }
        return names.contains { $0.hasSuffix("_Tokenizer.resources") || $0.hasSuffix("_Tokenizer.bundle") }
    }
}
