import BrokerProtocol
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

/// Byte-for-byte copies of the legacy files, under `<DIR>/.agentbroker-legacy-backup/<relative path>`.
///
/// The originals are never edited or deleted; the backup is the user's proof of what was imported.
/// Copies are written from the very bytes that were parsed, so the backup matches the import even if
/// the original changes while brokerctl runs.
enum LegacyBackup {
    /// Saves `bytes`, read from `relativePath` under `root`, and returns the backup's path relative to `root`.
    ///
    /// An identical backup already there (the plain name, or an earlier `<name>.<epoch-ms>`) is kept and
    /// reused; otherwise a plain name that is taken by different bytes leaves the new copy as
    /// `<name>.<epoch-ms>` beside it, so no backup is ever replaced.
    static func save(_ bytes: [UInt8], relativePath: String, root: String) throws(LegacyFileError) -> String {
        var components = relativePath.split(separator: "/").map(String.init)
        let name = components.removeLast()
        let folder = [LegacyScan.backupDirectoryName] + components
        try LegacyFiles.makeDirectories(base: root, folder)
        let directory = ([root] + folder).joined(separator: "/")
        let relativeFolder = folder.joined(separator: "/")
        if let same = identicalCopy(of: bytes, named: name, in: directory) { return relativeFolder + "/" + same }
        // Written under a temporary name, then linked into place: a crash never leaves a partial file
        // under a backup's name, and linking never replaces a file that appeared meanwhile.
        let partial = "\(directory)/.\(name).partial-\(getpid())"
        LegacyFiles.remove(partial)
        try LegacyFiles.createFile(partial, bytes)
        defer { LegacyFiles.remove(partial) }
        let now = Timestamp.now()
        for attempt in 0..<100 {
            let candidate = attempt == 0 ? name : "\(name).\(now + EpochMillis(attempt - 1))"
            if try LegacyFiles.linkNew(from: partial, to: directory + "/" + candidate) {
                return relativeFolder + "/" + candidate
            }
        }
        throw LegacyFileError("cannot find a free backup name for \(relativePath) in \(directory)")
    }

    /// The name of an existing backup of `name` holding exactly `bytes`, if there is one.
    private static func identicalCopy(of bytes: [UInt8], named name: String, in directory: String) -> String? {
        let candidates = (LegacyFiles.entries(directory) ?? []).filter { entry in
            entry == name || (entry.hasPrefix(name + ".") && isMillis(entry.dropFirst(name.count + 1)))
        }
        return candidates.first { candidate in
            LegacyFiles.kind(directory + "/" + candidate) == .regularFile
                && ProcessIO.readFile(directory + "/" + candidate) == bytes
        }
    }

    private static func isMillis(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
