import BrokerProtocol
import SessionCore

/// One message of a legacy file, ready for `session:addMessage`.
struct LegacyMessage {
    let role: String
    let content: String
    let name: String?
    /// `legacyTimestamp`, `legacyId`, `legacySource`, `legacyIndex` and `skippedParts` as present.
    let metadata: JSONObject
    /// Content parts that were not text and so were left out of `content`.
    let skippedParts: Int
}

/// A legacy file's conversation: its messages and the names it gives itself.
struct LegacyConversation {
    /// A top-level "featureId" member, which wins over the directory name.
    let featureId: String?
    /// A top-level "taskId" member (Dev sessions), which wins over the directory name.
    let taskId: String?
    let messages: [LegacyMessage]
    var skippedParts: Int { messages.reduce(0) { $0 + $1.skippedParts } }
}

/// Why a legacy file cannot be imported: the whole file is skipped (never a part of it, so a
/// session is never created with a hole in its conversation).
struct LegacyCorruption: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Reads the legacy shapes described in Protocols/AGENTBROKER-LEGACY.md.
enum LegacyFormat {
    /// Legacy role names and the broker role each one becomes (matched without regard to case).
    static let roles = [
        "system": "system", "user": "user", "assistant": "assistant", "tool": "tool", "human": "user",
        "ai": "assistant", "model": "assistant",
    ]

    /// Parses a whole file; `source` (the relative path) is recorded in each message's metadata.
    static func parse(_ bytes: [UInt8], source: String) throws(LegacyCorruption) -> LegacyConversation {
        let document: JSON
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw LegacyCorruption("not valid JSON at byte \(error.offset): \(error.message)")
        }
        let items: [JSON]
        let prefix: String
        var featureId: String?
        var taskId: String?
        switch document {
        case .array(let array):
            (items, prefix) = (array, "")
        case .object(let object):
            guard let array = object["messages"]?.arrayValue else {
                throw LegacyCorruption(
                    "an object must have a \"messages\" array; "
                        + (object["messages"].map { "\"messages\" is \($0.typeName)" } ?? "it has none"))
            }
            (items, prefix) = (array, "messages")
            featureId = try label(object["featureId"], "featureId")
            taskId = try label(object["taskId"], "taskId")
        default:
            throw LegacyCorruption(
                "expected an array of messages or an object with a \"messages\" array, got \(document.typeName)")
        }
        var messages: [LegacyMessage] = []
        messages.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            messages.append(try message(item, index: index, path: "\(prefix)[\(index)]", source: source))
        }
        return LegacyConversation(featureId: featureId, taskId: taskId, messages: messages)
    }

    /// A top-level label: absent or null is nil; otherwise a non-empty string of at most 256 bytes
    /// (the broker's identifier rule), since it becomes the session's featureId or taskId.
    private static func label(_ value: JSON?, _ key: String) throws(LegacyCorruption) -> String? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= 256 else {
            throw LegacyCorruption("\"\(key)\" must be a non-empty string of at most 256 bytes")
        }
        return text
    }

    private static func message(
        _ item: JSON, index: Int, path: String, source: String
    ) throws(LegacyCorruption) -> LegacyMessage {
        guard let object = item.objectValue else {
            throw LegacyCorruption("\(path): a message must be an object, got \(item.typeName)")
        }
        guard let roleValue = object["role"] else { throw LegacyCorruption("\(path): missing \"role\"") }
        guard let roleName = roleValue.stringValue, let role = roles[roleName.lowercased()] else {
            throw LegacyCorruption(
                "\(path).role: expected system, user, assistant, tool, human, ai or model, got "
                    + (roleValue.stringValue.map { "\"\($0)\"" } ?? roleValue.typeName))
        }
        guard let contentValue = object["content"] else { throw LegacyCorruption("\(path): missing \"content\"") }
        let (content, skippedParts) = try text(contentValue, path: path + ".content")
        var metadata = JSONObject()
        let stampKey = object["timestamp"].map { $0.isNull } == false ? "timestamp" : "createdAt"
        if let stamp = try timestamp(object[stampKey], path: "\(path).\(stampKey)") {
            metadata["legacyTimestamp"] = .string(stamp)
        }
        switch object["id"] {
        case nil, .null?: break
        case let id? where id.stringValue != nil || id.intValue != nil: metadata["legacyId"] = id
        case let id?: throw LegacyCorruption("\(path).id: expected a string or an integer, got \(id.typeName)")
        }
        metadata["legacySource"] = .string(source)
        metadata["legacyIndex"] = .int(index)
        if skippedParts > 0 { metadata["skippedParts"] = .int(skippedParts) }
        return LegacyMessage(
            role: role, content: content, name: try name(object["name"], path: path), metadata: metadata,
            skippedParts: skippedParts)
    }

    /// The message text: a string as is, or the text parts of an array joined by newlines.
    private static func text(_ value: JSON, path: String) throws(LegacyCorruption) -> (String, Int) {
        if let text = value.stringValue { return (text, 0) }
        guard let parts = value.arrayValue else {
            throw LegacyCorruption("\(path): expected a string or an array of parts, got \(value.typeName)")
        }
        var texts: [String] = []
        var skipped = 0
        for (index, part) in parts.enumerated() {
            guard part["type"]?.stringValue == "text" else {
                skipped += 1  // images, tool calls and the like have no place in a text chat message
                continue
            }
            guard let text = part["text"]?.stringValue else {
                throw LegacyCorruption("\(path)[\(index)]: a text part must have a string \"text\"")
            }
            texts.append(text)
        }
        return (texts.joined(separator: "\n"), skipped)
    }

    /// An ISO 8601 string as given, or epoch milliseconds turned into the broker's ISO 8601 form.
    private static func timestamp(_ value: JSON?, path: String) throws(LegacyCorruption) -> String? {
        switch value {
        case nil, .null?:
            return nil
        case .string(let text)? where LegacyTimestamp.isISO8601(text):
            return text
        case let number? where number.doubleValue.map(LegacyTimestamp.millisRange.contains) == true:
            return Timestamp.iso8601(EpochMillis(number.doubleValue!.rounded(.down)))
        case let other?:
            throw LegacyCorruption(
                "\(path): expected an ISO 8601 string or epoch milliseconds, got "
                    + (other.stringValue.map { "\"\($0)\"" } ?? other.serializedString))
        }
    }

    /// The speaker's name: absent, null or "" is none; else at most 256 bytes (the broker's identifier rule).
    private static func name(_ value: JSON?, path: String) throws(LegacyCorruption) -> String? {
        guard let value, !value.isNull, value.stringValue != "" else { return nil }
        guard let text = value.stringValue, text.utf8.count <= 256 else {
            throw LegacyCorruption("\(path).name: expected a string of at most 256 bytes")
        }
        return text
    }
}

/// The timestamp forms legacy files used.
enum LegacyTimestamp {
    /// Epoch milliseconds from 1970 to the end of year 9999.
    static let millisRange: ClosedRange<Double> = 0...253_402_300_799_999

    /// `YYYY-MM-DD`, optionally followed by `T` (or a space) `hh:mm`, `:ss`, a fraction, and `Z` or `±hh:mm`.
    /// Checked by shape only: the text is kept as given, so a wrong but well-formed date passes.
    static func isISO8601(_ text: String) -> Bool {
        var scanner = Scanner(Array(text.utf8))
        guard scanner.digits(4), scanner.byte("-"), scanner.digits(2), scanner.byte("-"), scanner.digits(2) else {
            return false
        }
        if scanner.atEnd { return true }
        guard scanner.byte("T") || scanner.byte(" "), scanner.digits(2), scanner.byte(":"), scanner.digits(2) else {
            return false
        }
        if scanner.byte(":") {
            guard scanner.digits(2) else { return false }
            if scanner.byte(".") || scanner.byte(",") {
                guard scanner.digits(1) else { return false }
                while scanner.digits(1) {}
            }
        }
        if scanner.byte("Z") { return scanner.atEnd }
        if scanner.byte("+") || scanner.byte("-") {
            guard scanner.digits(2) else { return false }
            _ = scanner.byte(":")
            guard scanner.digits(2) else { return false }
        }
        return scanner.atEnd
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { index == bytes.count }

        mutating func byte(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digits(_ count: Int) -> Bool {
            guard index + count <= bytes.count,
                bytes[index..<index + count].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            else { return false }
            index += count
            return true
        }
    }
}
