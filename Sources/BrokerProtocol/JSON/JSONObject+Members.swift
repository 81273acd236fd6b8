/// Lenient reads for code that treats a missing member as empty (agents reading replies, tests).
extension JSONObject {
    /// A string member, or "" when missing.
    public func text(_ key: String) -> String { self[key]?.stringValue ?? "" }

    /// An array-of-strings member, or [] when missing.
    public func strings(_ key: String) -> [String] { self[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}
