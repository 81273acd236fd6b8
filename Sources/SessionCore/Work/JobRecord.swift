import BrokerProtocol
import SQLite

/// Where a job is in its life. `completed`, `failed` and `cancelled` are final.
public enum JobState: String, Sendable, CaseIterable {
    case queued, running, completed, failed, cancelled

    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// A unit of work for an agent service, as stored in the `jobs` table.
public struct JobRecord: Sendable, Equatable {
    public var id: String
    public var service: String
    public var payload: JSON
    public var state: JobState
    /// Dispatches so far (a worker lost mid-job costs one).
    public var attempts: Int64
    public var maxAttempts: Int64
    public var timeoutMs: Int64
    /// `createdAt + timeoutMs`: past it, the job fails whatever its state.
    public var deadlineAt: EpochMillis
    public var worker: String?
    public var result: JSON?
    public var error: String?
    public var createdAt: EpochMillis
    public var startedAt: EpochMillis?
    public var finishedAt: EpochMillis?

    public init(
        id: String, service: String, payload: JSON, state: JobState = .queued, attempts: Int64 = 0,
        maxAttempts: Int64, timeoutMs: Int64, createdAt: EpochMillis
    ) {
        self.id = id
        self.service = service
        self.payload = payload
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.timeoutMs = timeoutMs
        self.deadlineAt = createdAt + timeoutMs
        self.createdAt = createdAt
    }

    /// The job as the API shows it; `full: false` leaves out payload and result (for lists).
    public func json(full: Bool = true) -> JSONObject {
        var object = JSONObject([
            ("jobId", .string(id)), ("service", .string(service)), ("state", .string(state.rawValue)),
        ])
        if full { object["payload"] = payload }
        object["attempts"] = .int(attempts)
        object["maxAttempts"] = .int(maxAttempts)
        object["timeoutMs"] = .int(timeoutMs)
        object["worker"] = worker.map(JSON.string) ?? .null
        if full { object["result"] = result ?? .null }
        object["error"] = error.map(JSON.string) ?? .null
        object["createdAt"] = .string(Timestamp.iso8601(createdAt))
        object["startedAt"] = startedAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        object["finishedAt"] = finishedAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        object["deadlineAt"] = .string(Timestamp.iso8601(deadlineAt))
        return object
    }
}

/// Reading and writing `jobs` rows, shared by the writer and the readers.
enum JobRows {
    static let columns = """
        id, service, payload, state, attempts, max_attempts, timeout_ms, deadline_at, worker, result, error, \
        created_at, started_at, finished_at
        """

    static func decode(_ row: Statement) -> JobRecord {
        var record = JobRecord(
            id: row.text(0), service: row.text(1), payload: parseStored(row.text(2)),
            state: JobState(rawValue: row.text(3)) ?? .failed, attempts: row.int(4), maxAttempts: row.int(5),
            timeoutMs: row.int(6), createdAt: row.int(11))
        record.deadlineAt = row.int(7)
        record.worker = row.optionalText(8)
        record.result = row.optionalText(9).map(parseStored)
        record.error = row.optionalText(10)
        record.startedAt = row.optionalInt(12)
        record.finishedAt = row.optionalInt(13)
        return record
    }

    static func load(_ db: Connection, id: String) throws(SQLiteError) -> JobRecord? {
        let select = try db.statement("SELECT \(columns) FROM jobs WHERE id = ?")
        select.bind(1, id)
        defer { select.reset() }
        guard try select.step() else { return nil }
        return decode(select)
    }

    /// Jobs not finished yet, oldest first: what a starting broker queues again.
    static func unfinished(_ db: Connection) throws(SQLiteError) -> [JobRecord] {
        let select = try db.statement(
            "SELECT \(columns) FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, id")
        var jobs: [JobRecord] = []
        while try select.step() { jobs.append(decode(select)) }
        return jobs
    }

    /// Inserts or replaces the whole row.
    static func save(_ db: Connection, _ job: JobRecord) throws(SQLiteError) {
        let upsert = try db.cached(
            """
            INSERT OR REPLACE INTO jobs (id, service, payload, state, attempts, max_attempts, timeout_ms, deadline_at,
            worker, result, error, created_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        upsert.bindAll(
            job.id, job.service, job.payload.serializedString, job.state.rawValue, job.attempts, job.maxAttempts,
            job.timeoutMs, job.deadlineAt, job.worker, job.result?.serializedString, job.error, job.createdAt,
            job.startedAt, job.finishedAt)
        try upsert.run()
    }
}

/// Parses JSON the broker itself stored; a row it cannot parse (edited by hand) reads as its text.
func parseStored(_ text: String) -> JSON {
    (try? JSONParser.parse(text)) ?? .string(text)
}
