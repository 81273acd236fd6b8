import BrokerProtocol

/// Names and versions of the portable formats (Protocols/AGENTBROKER-PORTABILITY.md).
public enum PortableFormat {
    /// `format` of a whole-database backup.
    public static let backup = "agentbroker.backup"
    /// `format` of one session's JSON document.
    public static let session = "agentbroker.session"
    /// `format` of a session packet.
    public static let packet = "agentbroker.packet"
    /// The record format this build writes. 1 was the first (before jobs and tasks); 2 adds them.
    public static let currentVersion: Int64 = 2
    /// The packet format this build writes and reads.
    public static let packetVersion: Int64 = 1

    /// Whether a document is a packet: its `format` says so, or it has none and carries a `packetVersion`.
    public static func isPacket(_ document: JSONObject) -> Bool {
        guard let format = document["format"] else { return document["packetVersion"] != nil }
        return format.stringValue == packet
    }
    /// The trace bundle's manifest version.
    public static let tracesVersion: Int64 = 1
}

/// The kinds of record a backup, a session document or a trace bundle carries, in the order they are written.
///
/// The order matters for import: a record refers only to records of sections before it
/// (a message to its session, an iteration to its task), so one pass can check every reference.
public enum PortableSection: String, CaseIterable, Sendable {
    case sessions, messages, checkpoints, compactions, jobs, tasks, taskIterations, events

    /// The sections one session's document carries.
    public static let ofSession: [PortableSection] = [.sessions, .messages, .checkpoints, .compactions]

    /// The table that holds the section's rows.
    var table: String { self == .taskIterations ? "task_iterations" : rawValue }

    /// The sections format version 1 had.
    static let ofVersion1: [PortableSection] = [.sessions, .messages, .checkpoints, .compactions, .events]
}

/// What to export: the whole database, a trace bundle, or one session in one of three formats.
public enum ExportRequest: Sendable, Equatable {
    case backup
    case traces(ExportFilter)
    case session(id: String, format: SessionExportFormat)
}

/// The rows a trace bundle keeps.
public struct ExportFilter: Sendable, Equatable {
    /// Only rows created (or, for sessions and tasks, changed) at or after this time.
    public var since: EpochMillis?
    /// Only this session's rows and events (jobs and tasks are left out).
    public var sessionId: String?

    public init(since: EpochMillis? = nil, sessionId: String? = nil) {
        self.since = since
        self.sessionId = sessionId
    }
}

/// How one session is exported.
public enum SessionExportFormat: String, Sendable, CaseIterable {
    case json, markdown, packet
}
