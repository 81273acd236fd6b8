import BrokerProtocol

/// Typed access to one record's members, with problems that name the member and point at the record.
struct RecordFields {
    let record: ImportDocument.Record
    var object: JSONObject { record.object }

    func problem(_ message: String, _ member: String) -> ImportProblem { record.problem(message, member: member) }

    func string(_ key: String, maxBytes: Int = 1 << 30) throws(ImportProblem) -> String {
        guard let value = object[key] else { throw problem("\"\(key)\" is missing", key) }
        guard case .string(let text) = value else {
            throw problem("\"\(key)\" must be a string, not \(value.typeName)", key)
        }
        guard text.utf8.count <= maxBytes else { throw problem("\"\(key)\" is longer than \(maxBytes) bytes", key) }
        return text
    }

    /// An id: 1 to 256 bytes, no control characters.
    func identifier(_ key: String) throws(ImportProblem) -> String {
        let text = try string(key, maxBytes: 256)
        guard !text.isEmpty, !text.utf8.contains(where: { $0 < 0x20 }) else {
            throw problem("\"\(key)\" must be a non-empty id without control characters", key)
        }
        return text
    }

    func optionalString(_ key: String) throws(ImportProblem) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw problem("\"\(key)\" must be a string or null, not \(other.typeName)", key)
        }
    }

    func int(_ key: String, min: Int64 = 0) throws(ImportProblem) -> Int64 {
        guard let value = object[key] else { throw problem("\"\(key)\" is missing", key) }
        guard let number = value.intValue else {
            throw problem("\"\(key)\" must be an integer, not \(value.typeName)", key)
        }
        guard number >= min else { throw problem("\"\(key)\" must be at least \(min)", key) }
        return number
    }

    func optionalInt(_ key: String) throws(ImportProblem) -> Int64? {
        switch object[key] {
        case nil, .null?: return nil
        case let value?:
            guard let number = value.intValue, number >= 0 else {
                throw problem("\"\(key)\" must be a non-negative integer or null", key)
            }
            return number
        }
    }

    func bool(_ key: String) throws(ImportProblem) -> Bool {
        guard case .bool(let flag)? = object[key] else { throw problem("\"\(key)\" must be true or false", key) }
        return flag
    }

    /// A time: an ISO 8601 string, or integer epoch milliseconds.
    func time(_ key: String) throws(ImportProblem) -> EpochMillis {
        guard let value = object[key] else { throw problem("\"\(key)\" is missing", key) }
        return try parseTime(value, key)
    }

    func optionalTime(_ key: String) throws(ImportProblem) -> EpochMillis? {
        switch object[key] {
        case nil, .null?: return nil
        case let value?: return try parseTime(value, key)
        }
    }

    private func parseTime(_ value: JSON, _ key: String) throws(ImportProblem) -> EpochMillis {
        if let millis = value.intValue, Timestamp.representable.contains(millis) { return millis }
        if case .string(let text) = value, let millis = Timestamp.parseISO8601(text) { return millis }
        throw problem(
            "\"\(key)\" must be an ISO 8601 time or epoch milliseconds, within the years -999999 to +999999", key)
    }

    /// Any JSON value, serialized for a TEXT column (a record flagged unrepresentable keeps a string as text).
    func json(_ key: String) throws(ImportProblem) -> String {
        guard let value = object[key] else { throw problem("\"\(key)\" is missing", key) }
        return value.serializedString
    }

    func optionalJSON(_ key: String) -> String? {
        switch object[key] {
        case nil, .null?: nil
        case let value?: value.serializedString
        }
    }

    /// A list of strings, serialized as the checkpoint columns store it.
    func strings(_ key: String) throws(ImportProblem) -> String {
        guard case .array(let items)? = object[key], items.allSatisfy({ $0.stringValue != nil }) else {
            throw problem("\"\(key)\" must be an array of strings", key)
        }
        return JSON.array(items).serializedString
    }

    func oneOf(_ key: String, _ allowed: [String]) throws(ImportProblem) -> String {
        let text = try string(key)
        guard allowed.contains(text) else {
            throw problem("\"\(key)\" must be one of \(allowed.joined(separator: ", ")), not \"\(text)\"", key)
        }
        return text
    }
}
