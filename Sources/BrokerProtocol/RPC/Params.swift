/// Typed access to a request's by-name parameters, with `invalid_params` errors that name the field.
public struct Params: Sendable {
    public private(set) var object: JSONObject

    public init(_ object: JSONObject = JSONObject()) { self.object = object }

    public subscript(key: String) -> JSON? {
        get { object[key] }
        set { object[key] = newValue }
    }

    /// Refuses parameters outside `allowed`, so a misspelt name (`sessionID`) is an error, not silently ignored.
    public func requireOnly(_ allowed: Set<String>) throws(RPCError) {
        for key in object.keys where !allowed.contains(key) {
            throw RPCError.invalidParams("unknown parameter '\(key)'", field: key)
        }
    }

    /// A present, non-null value; nil when absent or null.
    private func present(_ key: String) -> JSON? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    public func string(_ key: String, maxBytes: Int = 1 << 20) throws(RPCError) -> String {
        guard let value = try optionalString(key, maxBytes: maxBytes) else {
            throw RPCError.invalidParams("missing parameter '\(key)'", field: key)
        }
        return value
    }

    public func optionalString(_ key: String, maxBytes: Int = 1 << 20) throws(RPCError) -> String? {
        guard let value = present(key) else { return nil }
        guard let text = value.stringValue else {
            throw RPCError.invalidParams("'\(key)' must be a string, got \(value.typeName)", field: key)
        }
        if text.utf8.count > maxBytes {
            throw RPCError(
                .tooLarge, "'\(key)' is \(text.utf8.count) bytes; the limit is \(maxBytes)",
                details: JSONObject([("field", .string(key)), ("limit", .int(maxBytes))]))
        }
        return text
    }

    /// A non-empty string identifier (an id, a type, a name).
    public func identifier(_ key: String) throws(RPCError) -> String {
        guard let value = try optionalIdentifier(key) else {
            throw RPCError.invalidParams("missing parameter '\(key)'", field: key)
        }
        return value
    }

    public func optionalIdentifier(_ key: String) throws(RPCError) -> String? {
        guard let value = try optionalString(key, maxBytes: 256) else { return nil }
        guard !value.isEmpty else { throw RPCError.invalidParams("'\(key)' must not be empty", field: key) }
        return value
    }

    public func optionalInt(_ key: String, range: ClosedRange<Int64>) throws(RPCError) -> Int64? {
        guard let value = present(key) else { return nil }
        guard let number = value.intValue else {
            throw RPCError.invalidParams("'\(key)' must be an integer, got \(value.typeName)", field: key)
        }
        guard range.contains(number) else {
            throw RPCError.invalidParams(
                "'\(key)' must be between \(range.lowerBound) and \(range.upperBound)", field: key)
        }
        return number
    }

    public func optionalBool(_ key: String) throws(RPCError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard let flag = value.boolValue else {
            throw RPCError.invalidParams("'\(key)' must be a boolean, got \(value.typeName)", field: key)
        }
        return flag
    }

    public func optionalObject(_ key: String) throws(RPCError) -> JSONObject? {
        guard let value = present(key) else { return nil }
        guard let object = value.objectValue else {
            throw RPCError.invalidParams("'\(key)' must be an object, got \(value.typeName)", field: key)
        }
        return object
    }

    /// An array of strings, such as a checkpoint's `pending` items.
    public func optionalStrings(_ key: String, maxItems: Int = 10_000) throws(RPCError) -> [String]? {
        guard let value = present(key) else { return nil }
        guard let items = value.arrayValue else {
            throw RPCError.invalidParams("'\(key)' must be an array of strings, got \(value.typeName)", field: key)
        }
        guard items.count <= maxItems else {
            throw RPCError(
                .tooLarge, "'\(key)' has \(items.count) items; the limit is \(maxItems)",
                details: JSONObject([("field", .string(key)), ("limit", .int(maxItems))]))
        }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard let text = item.stringValue else {
                throw RPCError.invalidParams("'\(key)' must contain only strings, found \(item.typeName)", field: key)
            }
            strings.append(text)
        }
        return strings
    }
}
