import BrokerProtocol
import SQLite

extension SessionReader {
    /// `job:get`.
    public func getJob(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["jobId"])
        return JSON.object(try job(try params.identifier("jobId")).json()).serialized
    }

    /// One job, or `not_found`.
    public func job(_ id: String) throws(RPCError) -> JobRecord {
        let loaded: JobRecord?
        do { loaded = try JobRows.load(db, id: id) } catch { throw Self.internalError(error) }
        guard let job = loaded else { throw .notFound("job", id) }
        return job
    }

    /// `job:list`: newest first, without payloads and results.
    public func listJobs(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["service", "state", "limit"])
        let service = try params.optionalIdentifier("service")
        let state = try params.optionalIdentifier("state")
        if let state, JobState(rawValue: state) == nil {
            let names = JobState.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError.invalidParams("'state' must be one of \(names)", field: "state")
        }
        let limit = try params.optionalInt("limit", range: 1...1_000) ?? 100
        do throws(SQLiteError) {
            let select = try db.statement(
                """
                SELECT \(JobRows.columns) FROM jobs WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR state = ?2)
                ORDER BY created_at DESC, id DESC LIMIT ?3
                """)
            select.bindAll(service, state, limit)
            var jobs: [JSON] = []
            while try select.step() { jobs.append(.object(JobRows.decode(select).json(full: false))) }
            return JSON.object(JSONObject([("jobs", .array(jobs))])).serialized
        } catch {
            throw Self.internalError(error)
        }
    }

    /// Queued and running jobs, oldest first (for the dispatcher at start).
    public func unfinishedJobs() throws(SQLiteError) -> [JobRecord] {
        defer { finish() }
        return try JobRows.unfinished(db)
    }

    /// `task:get`: the task and its iterations.
    public func getTask(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["taskId"])
        let id = try params.identifier("taskId")
        return try snapshot { () throws(RPCError) in
            let loaded: TaskRecord?
            do throws(SQLiteError) { loaded = try TaskRows.load(db, id: id) } catch { throw Self.internalError(error) }
            guard let task = loaded else { throw RPCError.notFound("task", id) }
            var object = task.json
            do throws(SQLiteError) {
                let select = try db.statement(
                    "SELECT iteration, passed, results, at FROM task_iterations WHERE task = ? ORDER BY iteration")
                select.bind(1, id)
                var iterations: [JSON] = []
                while try select.step() {
                    iterations.append(
                        .object(
                            JSONObject([
                                ("iteration", .int(select.int(0))), ("passed", .bool(select.int(1) != 0)),
                                ("results", parseStored(select.text(2))),
                                ("at", .string(Timestamp.iso8601(select.int(3)))),
                            ])))
                }
                object["iterations"] = .array(iterations)
            } catch {
                throw Self.internalError(error)
            }
            return JSON.object(object).serialized
        }
    }

    /// `task:list`: in creation order, optionally one feature's or one state's.
    public func listTasks(_ params: Params) throws(RPCError) -> [UInt8] {
        try params.requireOnly(["featureId", "state"])
        let feature = try params.optionalIdentifier("featureId")
        let state = try params.optionalIdentifier("state")
        if let state, TaskState(rawValue: state) == nil {
            let names = TaskState.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError.invalidParams("'state' must be one of \(names)", field: "state")
        }
        do throws(SQLiteError) {
            let select = try db.statement(
                """
                SELECT \(TaskRows.columns) FROM tasks WHERE (?1 IS NULL OR feature_id = ?1) AND (?2 IS NULL OR state = ?2)
                ORDER BY rowid
                """)
            select.bindAll(feature, state)
            var tasks: [JSON] = []
            while try select.step() { tasks.append(.object(TaskRows.decode(select).json)) }
            return JSON.object(JSONObject([("tasks", .array(tasks))])).serialized
        } catch {
            throw Self.internalError(error)
        }
    }
}
