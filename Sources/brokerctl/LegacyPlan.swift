import BrokerProtocol

/// The session one legacy file becomes.
struct LegacyTarget {
    let sessionId: String
    let type: String
    let state: String
    let featureId: String
    let taskId: String?

    /// The target for a parsed file: labels from the file's own members when present, else from its path.
    init(_ source: LegacySource, _ conversation: LegacyConversation) {
        featureId = conversation.featureId ?? source.feature
        switch source.kind {
        case .chat:
            (type, state, taskId) = ("pm", "planning", nil)
            sessionId = LegacyIds.sessionId([featureId], suffix: "pm")
        case .devSession:
            let task = conversation.taskId ?? source.task ?? ""
            (type, state, taskId) = ("dev", "in_dev", task)
            sessionId = LegacyIds.sessionId([featureId, task], suffix: "dev")
        }
    }

    /// The id of the file's message at `index`: stable, so a second run finds it and adds nothing.
    func messageId(_ index: Int) -> String { "\(sessionId):\(index)" }

    /// The `requestId` of the initial checkpoint write. It includes the session's `createdAt` because
    /// the broker keeps request results for the life of the database: a session deleted and imported
    /// again must not be answered with the old session's stored result.
    func checkpointRequestId(createdAt: String) -> String {
        "\(sessionId):checkpoint-\(LegacyIds.hash(createdAt, hexDigits: 8))"
    }
}

/// Session ids made from feature and task names.
enum LegacyIds {
    /// Session ids stay this short so that `<sessionId>:<index>` message ids and the checkpoint's
    /// request id fit the broker's 128-byte limit for client-made ids.
    static let maxSessionIdBytes = 100

    /// `legacy-<name>-<name>-<suffix>`, in printable ASCII without spaces. A name with other characters
    /// has them replaced by `_` and gets a hash of the exact names appended, so that two names differing
    /// only there ("a b", "a_b") still get different ids; an id that would be too long is cut and hashed
    /// the same way.
    static func sessionId(_ names: [String], suffix: String) -> String {
        let cleaned = names.map(printable)
        let plain = "legacy-" + cleaned.joined(separator: "-") + "-" + suffix
        if cleaned == names && plain.utf8.count <= maxSessionIdBytes { return plain }
        let tag = hash(names.joined(separator: "\u{0}"), hexDigits: 12)
        let fixed = "legacy-".utf8.count + 1 + tag.utf8.count + 1 + suffix.utf8.count
        let middle = String(cleaned.joined(separator: "-").prefix(maxSessionIdBytes - fixed))
        return "legacy-" + middle + "-" + tag + "-" + suffix
    }

    /// The name with every character outside 0x21...0x7E replaced by `_` (one per Unicode scalar).
    static func printable(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { (0x21...0x7E).contains($0.value) ? $0 : "_" }))
    }

    /// FNV-1a over the UTF-8 bytes, as hexadecimal: stable across runs and machines (Swift's `Hasher` is
    /// seeded per process, so it cannot make ids).
    static func hash(_ text: String, hexDigits: Int) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        let hex = String(value, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(hexDigits))
    }
}
