import BrokerProtocol
import SQLite

/// Where a task is in the Ralph Loop.
public enum TaskState: String, Sendable, CaseIterable {
    case planning
    case inDev = "in_dev"
    case inQA = "in_qa"
    case inReview = "in_review"
    case done, failed

    /// The states a task may move to from this one (staying put is always allowed).
    public var successors: Set<TaskState> {
        switch self {
        case .planning: [.inDev, .failed]
        case .inDev: [.inQA, .failed]
        case .inQA: [.inDev, .inReview, .failed]
        case .inReview: [.inDev, .done, .failed]
        case .failed: [.inDev, .planning]
        case .done: []
        }
    }

    public func canMove(to next: TaskState) -> Bool { next == self || successors.contains(next) }
}

/// One command that decides whether a task is done, run in the task's workspace.
public struct TaskCheck: Sendable, Equatable {
    public var name: String
    public var command: String
    public var timeoutMs: Int64

    public static let defaultTimeoutMs: Int64 = 300_000

    public init(name: String, command: String, timeoutMs: Int64 = TaskCheck.defaultTimeoutMs) {
        self.name = name
        self.command = command
        self.timeoutMs = timeoutMs
    }

    public var json: JSON {
        .object(
            JSONObject([("name", .string(name)), ("command", .string(command)), ("timeoutMs", .int(timeoutMs))]))
    }

    /// A check from its JSON form: a command string (named after itself) or `{name?, command, timeoutMs?}`.
    public init?(json: JSON) {
        if let command = json.stringValue, !command.isEmpty {
            self.init(name: command, command: command)
            return
        }
        guard let command = json["command"]?.stringValue, !command.isEmpty else { return nil }
        let name = json["name"]?.stringValue ?? command
        let timeout = json["timeoutMs"]?.intValue ?? Self.defaultTimeoutMs
        guard !name.isEmpty, (1_000...86_400_000).contains(timeout) else { return nil }
        self.init(name: name, command: command, timeoutMs: timeout)
    }
}

/// A unit of a feature's plan, as stored in the `tasks` table.
public struct TaskRecord: Sendable, Equatable {
    public var id: String
    public var featureId: String
    public var title: String
    public var description: String
    public var checks: [TaskCheck]
    public var dependsOn: [String]
    /// `{repo, baseBranch, branch}`, or nil when the task has no git workspace.
    public var workspace: JSONObject?
    public var state: TaskState
    public var iteration: Int64
    /// Session ids used in each state, in the order they were added.
    public var sessions: JSONObject
    public var failureReason: String?
    public var createdAt: EpochMillis
    public var updatedAt: EpochMillis

    public var json: JSONObject {
        JSONObject([
            ("taskId", .string(id)), ("featureId", .string(featureId)), ("title", .string(title)),
            ("description", .string(description)), ("checks", .array(checks.map(\.json))),
            ("dependsOn", .array(dependsOn.map(JSON.string))), ("workspace", workspace.map(JSON.object) ?? .null),
            ("state", .string(state.rawValue)), ("iteration", .int(iteration)), ("sessions", .object(sessions)),
            ("failureReason", failureReason.map(JSON.string) ?? .null),
            ("createdAt", .string(Timestamp.iso8601(createdAt))), ("updatedAt", .string(Timestamp.iso8601(updatedAt))),
        ])
    }
}

/// Reading and writing `tasks` rows, shared by the writer and the readers.
enum TaskRows {
    static let columns = """
        id, feature_id, title, description, checks, depends_on, workspace, state, iteration, sessions, \
        failure_reason, created_at, updated_at
        """

    static func decode(_ row: Statement) -> TaskRecord {
        TaskRecord(
            id: row.text(0), featureId: row.text(1), title: row.text(2), description: row.text(3),
            checks: (parseStored(row.text(4)).arrayValue ?? []).compactMap(TaskCheck.init(json:)),
            dependsOn: (parseStored(row.text(5)).arrayValue ?? []).compactMap(\.stringValue),
            workspace: row.optionalText(6).flatMap { parseStored($0).objectValue },
            state: TaskState(rawValue: row.text(7)) ?? .failed, iteration: row.int(8),
            sessions: parseStored(row.text(9)).objectValue ?? JSONObject(), failureReason: row.optionalText(10),
            createdAt: row.int(11), updatedAt: row.int(12))
    }

    static func load(_ db: Connection, id: String) throws(SQLiteError) -> TaskRecord? {
        let select = try db.statement("SELECT \(columns) FROM tasks WHERE id = ?")
        select.bind(1, id)
        defer { select.reset() }
        guard try select.step() else { return nil }
        return decode(select)
    }

    /// Inserts the task, or updates it in place (keeping its rowid, which orders a feature's tasks).
    static func save(_ db: Connection, _ task: TaskRecord) throws(SQLiteError) {
        let upsert = try db.cached(
            """
            INSERT INTO tasks (id, feature_id, title, description, checks, depends_on, workspace, state,
            iteration, sessions, failure_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET state = excluded.state, iteration = excluded.iteration,
            sessions = excluded.sessions, failure_reason = excluded.failure_reason, updated_at = excluded.updated_at
            """)
        upsert.bindAll(
            task.id, task.featureId, task.title, task.description, JSON.array(task.checks.map(\.json)).serializedString,
            JSON.array(task.dependsOn.map(JSON.string)).serializedString,
            task.workspace.map { JSON.object($0).serializedString }, task.state.rawValue, task.iteration,
            JSON.object(task.sessions).serializedString, task.failureReason, task.createdAt, task.updatedAt)
        try upsert.run()
    }
}
