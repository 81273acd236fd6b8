import BrokerProtocol
import SQLite

extension SessionWriter {
    /// `task:create`; the same call again (every field equal) returns the task, anything else on its id conflicts.
    func createTask(_ create: CreateTask) throws(CommandError) -> [UInt8] {
        let id = create.taskId ?? Identifier.make("task")
        var task = TaskRecord(
            id: id, featureId: create.featureId, title: create.title, description: create.description,
            checks: create.checks, dependsOn: create.dependsOn, workspace: create.workspace, state: .planning,
            iteration: 0, sessions: JSONObject(), failureReason: nil, createdAt: now, updatedAt: now)
        if let existing = try loadTask(id) {
            task.createdAt = existing.createdAt
            task.updatedAt = existing.updatedAt
            task.state = existing.state
            task.iteration = existing.iteration
            task.sessions = existing.sessions
            task.failureReason = existing.failureReason
            guard task == existing else {
                throw .rpc(
                    RPCError(
                        .conflict, "task '\(id)' already exists with other fields",
                        details: JSONObject([("taskId", .string(id))])))
            }
            return JSON.object(existing.json).serialized
        }
        for dependency in create.dependsOn {
            guard dependency != id, try loadTask(dependency) != nil else {
                throw .rpc(
                    RPCError.invalidParams(
                        "dependsOn names '\(dependency)', which is not an existing task", field: "dependsOn"))
            }
        }
        try saveTask(task)
        try emit(
            Topic.taskCreated,
            JSONObject([
                ("taskId", .string(id)), ("featureId", .string(task.featureId)), ("title", .string(task.title)),
            ]))
        return JSON.object(task.json).serialized
    }

    /// `task:update`: a move along the task's state machine, the iteration, a session, a failure reason.
    func updateTask(_ update: UpdateTask) throws(CommandError) -> [UInt8] {
        guard var task = try loadTask(update.taskId) else { throw .rpc(.notFound("task", update.taskId)) }
        let previous = task.state
        if let next = update.state {
            guard previous.canMove(to: next) else {
                let allowed = previous.successors.map(\.rawValue).sorted().joined(separator: ", ")
                throw .rpc(
                    RPCError(
                        .conflict,
                        "task '\(task.id)' cannot move from \(previous.rawValue) to \(next.rawValue)"
                            + " (allowed: \(allowed.isEmpty ? "none" : allowed))",
                        details: JSONObject([("taskId", .string(task.id)), ("state", .string(previous.rawValue))])))
            }
            task.state = next
            if previous == .failed && next != .failed { task.failureReason = nil }
        }
        if let iteration = update.iteration { task.iteration = iteration }
        if let reason = update.failureReason { task.failureReason = reason }
        if let sessionId = update.sessionId {
            var used = task.sessions[task.state.rawValue]?.arrayValue ?? []
            if !used.contains(.string(sessionId)) { used.append(.string(sessionId)) }
            task.sessions[task.state.rawValue] = .array(used)
        }
        task.updatedAt = now
        try saveTask(task)
        try emit(
            Topic.taskUpdated,
            JSONObject([
                ("taskId", .string(task.id)), ("featureId", .string(task.featureId)),
                ("state", .string(task.state.rawValue)), ("previousState", .string(previous.rawValue)),
                ("iteration", .int(task.iteration)),
            ]))
        return JSON.object(task.json).serialized
    }

    /// `task:recordIteration`: stores (or replaces) one iteration's check results.
    func recordIteration(_ record: RecordIteration) throws(CommandError) -> [UInt8] {
        guard var task = try loadTask(record.taskId) else { throw .rpc(.notFound("task", record.taskId)) }
        let insert = try sql(
            "INSERT OR REPLACE INTO task_iterations (task, iteration, passed, results, at) VALUES (?, ?, ?, ?, ?)")
        insert.bindAll(
            task.id, record.iteration, record.passed ? 1 : 0, JSON.object(record.results).serializedString, now)
        try run(insert)
        task.updatedAt = now
        try saveTask(task)
        try emit(
            Topic.taskIteration,
            JSONObject([
                ("taskId", .string(task.id)), ("featureId", .string(task.featureId)),
                ("iteration", .int(record.iteration)), ("passed", .bool(record.passed)),
            ]))
        return JSON.object(
            JSONObject([
                ("taskId", .string(task.id)), ("iteration", .int(record.iteration)), ("passed", .bool(record.passed)),
            ])
        ).serialized
    }

    private func loadTask(_ id: String) throws(CommandError) -> TaskRecord? {
        do { return try TaskRows.load(db, id: id) } catch { throw .sqlite(error) }
    }

    private func saveTask(_ task: TaskRecord) throws(CommandError) {
        do { try TaskRows.save(db, task) } catch { throw .sqlite(error) }
    }
}
