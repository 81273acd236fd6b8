/// One legacy file found under the import directory, with the names its path gives it.
struct LegacySource {
    enum Kind {
        /// `<feature>/chat.json`: a feature's PM chat.
        case chat
        /// `<feature>/nodes/<task>/session.json`: a task's Dev session.
        case devSession
    }

    let kind: Kind
    /// The path relative to the import directory, with "/" separators: what reports and backups use.
    let relativePath: String
    /// The feature the path names (the directory holding `chat.json`, or holding `nodes`).
    let feature: String
    /// The task the path names (the directory holding `session.json`); nil for a chat.
    let task: String?
}

/// Finds `chat.json` and `nodes/<task>/session.json` files below a directory.
enum LegacyScan {
    /// Where backups go, inside the import directory; never scanned, at any depth.
    static let backupDirectoryName = ".agentbroker-legacy-backup"
    /// Deeper trees are not searched: a guard against pathological layouts, far beyond real ones.
    static let maxDepth = 32

    /// Every legacy file under `root`, in path order (bytewise), so reports are stable between runs.
    /// `rootName` is the name of `root` itself, for files whose feature directory is the root.
    /// Symbolic links are not followed, so a link cannot make the walk loop or leave the tree.
    static func sources(root: String, rootName: String) -> [LegacySource] {
        var found: [LegacySource] = []
        walk(root: root, relative: [], rootName: rootName, into: &found)
        return found
    }

    private static func walk(root: String, relative: [String], rootName: String, into found: inout [LegacySource]) {
        guard relative.count <= maxDepth else { return }
        let directory = ([root] + relative).joined(separator: "/")
        for name in LegacyFiles.entries(directory) ?? [] {
            let path = relative + [name]
            switch LegacyFiles.kind(directory + "/" + name) {
            case .directory where name != backupDirectoryName:
                walk(root: root, relative: path, rootName: rootName, into: &found)
            case .regularFile:
                if let source = source(path, rootName: rootName) { found.append(source) }
            default:
                break
            }
        }
    }

    /// The legacy file a relative path names, or nil when it is not one.
    static func source(_ path: [String], rootName: String) -> LegacySource? {
        let relativePath = path.joined(separator: "/")
        // The directory above index `index`, where the root stands in for "above the first component".
        func directory(above index: Int) -> String { index > 0 ? path[index - 1] : rootName }
        if path.last == "chat.json" {
            return LegacySource(
                kind: .chat, relativePath: relativePath, feature: directory(above: path.count - 1), task: nil)
        }
        if path.last == "session.json", path.count >= 3, path[path.count - 3] == "nodes" {
            return LegacySource(
                kind: .devSession, relativePath: relativePath, feature: directory(above: path.count - 3),
                task: path[path.count - 2])
        }
        return nil
    }
}
