import BrokerProtocol

/// What an uploaded file is, and how it goes in.
public enum ImportKind: String, Sendable, CaseIterable {
    /// A whole-database backup: every id must be new unless `clear` replaces the database.
    case backup
    /// A trace bundle (JSONL, already decompressed): merged; rows already present are skipped.
    case traces
    /// One session's JSON document or packet: becomes a new session with a new id.
    case session
}

/// A validated file waiting for the writer.
public struct ImportPlan: Sendable {
    public let path: String
    public let kind: ImportKind
    public let clear: Bool
    /// A packet (parsed whole: packets are small) instead of a streamed document.
    public let packet: JSONObject?

    public init(path: String, kind: ImportKind, clear: Bool, packet: JSONObject? = nil) {
        self.path = path
        self.kind = kind
        self.clear = clear
        self.packet = packet
    }

    var layout: ImportDocument.Layout { kind == .traces ? .jsonl : .document }
}

/// What an import did, as `import:commit` reports it.
public struct ImportSummary: Sendable {
    public var formatVersion: Int64 = PortableFormat.currentVersion
    public var counts: [PortableSection: Int64] = [:]
    public var skipped: [PortableSection: Int64] = [:]
    public var unrepresentable: Int64 = 0
    public var sessionId: String?
    public var source: String?
    /// Jobs the file left queued or running: the dispatcher queues them again.
    public var unfinishedJobs: [JobRecord] = []

    public func json(kind: ImportKind) -> JSONObject {
        func sections(_ values: [PortableSection: Int64]) -> JSON {
            .object(
                JSONObject(
                    PortableSection.allCases.compactMap { section in
                        values[section].map { (key: section.rawValue, value: JSON.int($0)) }
                    }))
        }
        var object = JSONObject([
            ("kind", .string(kind.rawValue)), ("formatVersion", .int(formatVersion)),
            ("migrated", .bool(formatVersion < PortableFormat.currentVersion && source != "packet")),
            ("stats", sections(counts)), ("skipped", sections(skipped)), ("unrepresentable", .int(unrepresentable)),
        ])
        if let sessionId { object["sessionId"] = .string(sessionId) }
        if let source { object["source"] = .string(source) }
        return object
    }
}
