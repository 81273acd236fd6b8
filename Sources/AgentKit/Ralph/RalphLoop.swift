import BrokerProtocol

/// The Ralph Loop: drives each task through fresh-context Dev iterations until its checks pass,
/// then review and merge, all through the broker (jobs for the agents, task state in the broker).
///
/// Every step is named by the task and iteration (`<taskId>:dev:3`), and the task's state lives in the
/// broker, so a ralph restarted at any point resumes where the last one was.
public struct RalphLoop {
    public let link: BrokerLink
    public let jobs: JobRunner
    public var maxIterations: Int64
    public let print: (String) -> Void

    public init(link: BrokerLink, jobs: JobRunner, maxIterations: Int64, print: @escaping (String) -> Void) {
        self.link = link
        self.jobs = jobs
        self.maxIterations = maxIterations
        self.print = print
    }

    /// Runs the given tasks in dependency order; true when every one is done.
    public func run(tasks: [JSONObject]) throws(AgentError) -> Bool {
        var outcome: [String: Bool] = [:]
        for task in Self.dependencyOrder(tasks) {
            let id = task.text("taskId")
            let failedDependency = task.strings("dependsOn").first { outcome[$0] == false }
            if let failedDependency {
                print("[\(id)] skipped: depends on \(failedDependency), which failed")
                if task.text("state") != "failed" {
                    try update(
                        id, state: "failed",
                        extra: [("failureReason", .string("dependency \(failedDependency) failed"))])
                }
                outcome[id] = false
                continue
            }
            outcome[id] = try drive(id)
        }
        return outcome.values.allSatisfy { $0 }
    }

    /// Dependencies first, otherwise in the given (creation) order.
    static func dependencyOrder(_ tasks: [JSONObject]) -> [JSONObject] {
        var ordered: [JSONObject] = []
        var placed: Set<String> = []
        var remaining = tasks
        while !remaining.isEmpty {
            let index =
                remaining.firstIndex { task in
                    task.strings("dependsOn").allSatisfy { dependency in
                        placed.contains(dependency) || !tasks.contains { $0.text("taskId") == dependency }
                    }
                } ?? 0  // a cycle: take the next one and let its dependency check fail it
            let task = remaining.remove(at: index)
            ordered.append(task)
            placed.insert(task.text("taskId"))
        }
        return ordered
    }

    /// One task from wherever it stands to done or failed.
    func drive(_ taskId: String) throws(AgentError) -> Bool {
        let sessions = TaskSessions(taskId: taskId)
        let start = try link.task(taskId)
        if !["done", "failed"].contains(start.text("state")) {
            try sessions.ensure(link, featureId: start.text("featureId"))
        }
        while true {
            let task = try link.task(taskId)
            let iteration = task["iteration"]?.intValue ?? 0
            switch task.text("state") {
            case "done":
                print("[\(taskId)] done")
                return true
            case "failed":
                print("[\(taskId)] FAILED: \(task.text("failureReason"))")
                return false
            case "planning":
                print("[\(taskId)] \(task.text("title"))")
                try update(taskId, state: "in_dev", extra: [("sessionId", .string(sessions.dev))])
            case "in_dev":
                let recorded = (task["iterations"]?.arrayValue ?? []).contains {
                    $0["iteration"]?.intValue == iteration
                }
                let next = iteration == 0 || recorded ? iteration + 1 : iteration
                guard next <= maxIterations else {
                    try update(
                        taskId, state: "failed",
                        extra: [("failureReason", .string("checks still failing after \(maxIterations) iterations"))])
                    continue
                }
                try update(
                    taskId, state: "in_dev", extra: [("iteration", .int(next)), ("sessionId", .string(sessions.dev))])
                try devIteration(taskId, next, sessions)
            case "in_qa":
                try qaIteration(taskId, iteration, sessions)
            case "in_review":
                try review(taskId, iteration, sessions)
            default:
                throw AgentError("task \(taskId) is in an unknown state '\(task.text("state"))'")
            }
        }
    }

    private func devIteration(_ taskId: String, _ iteration: Int64, _ sessions: TaskSessions) throws(AgentError) {
        let payload = JSONObject([
            ("taskId", .string(taskId)), ("iteration", .int(iteration)), ("sessionId", .string(sessions.dev)),
        ])
        do throws(AgentError) {
            let result = try jobs.run(jobId: "\(taskId):dev:\(iteration)", service: "dev", payload: payload)
            let files = result.strings("changedFiles")
            print(
                "[\(taskId)] iteration \(iteration): dev committed \(result.text("commit")) (\(files.joined(separator: ", ")))"
            )
        } catch {
            // A failed Dev job is a failed iteration: recorded, and the next one tries again.
            print("[\(taskId)] iteration \(iteration): dev failed: \(error)")
            let results = JSONObject([
                ("passed", .bool(false)), ("devError", .string(error.description)), ("checks", .array([])),
            ])
            try record(taskId, iteration, results)
            try noteResults(sessions.dev, iteration: iteration, results: results)
            return
        }
        try update(taskId, state: "in_qa", extra: [("sessionId", .string(sessions.qa))])
    }

    private func qaIteration(_ taskId: String, _ iteration: Int64, _ sessions: TaskSessions) throws(AgentError) {
        let payload = JSONObject([
            ("taskId", .string(taskId)), ("iteration", .int(iteration)), ("sessionId", .string(sessions.qa)),
        ])
        let results = try jobs.run(jobId: "\(taskId):qa:\(iteration)", service: "qa", payload: payload)
        let checks = results["checks"]?.arrayValue ?? []
        let failing = checks.filter { $0["passed"]?.boolValue != true }.compactMap { $0["name"]?.stringValue }
        print(
            "[\(taskId)] iteration \(iteration): qa \(checks.count - failing.count)/\(checks.count) checks pass"
                + (failing.isEmpty ? "" : "; failing: \(failing.joined(separator: ", "))"))
        try record(taskId, iteration, results)
        try noteResults(sessions.dev, iteration: iteration, results: results)
        let passed = results["passed"]?.boolValue == true
        try update(
            taskId, state: passed ? "in_review" : "in_dev",
            extra: passed ? [("sessionId", .string(sessions.harness))] : [])
    }

    private func review(_ taskId: String, _ iteration: Int64, _ sessions: TaskSessions) throws(AgentError) {
        let payload = JSONObject([
            ("taskId", .string(taskId)), ("iteration", .int(iteration)), ("sessionId", .string(sessions.harness)),
        ])
        let verdict = try jobs.run(jobId: "\(taskId):harness:\(iteration)", service: "harness", payload: payload)
        let reasons = verdict.strings("reasons")
        guard verdict["approved"]?.boolValue == true else {
            print("[\(taskId)] iteration \(iteration): harness REJECTED: \(reasons.joined(separator: "; "))")
            // Back to Dev, with the reasons as blockers the next iteration must clear.
            try link.updateCheckpoint(
                sessions.dev,
                JSONObject([("blockers", .array(reasons.map { .string("review of iteration \(iteration): \($0)") }))]))
            try update(taskId, state: "in_dev", extra: [])
            return
        }
        print(
            "[\(taskId)] iteration \(iteration): harness approved\(reasons.isEmpty ? "" : ": \(reasons.joined(separator: "; "))")"
        )
        let merge = try jobs.run(
            jobId: "\(taskId):merge:\(iteration)", service: "merge",
            payload: JSONObject([("taskId", .string(taskId)), ("sessionId", .string(sessions.merge))]))
        if merge["merged"]?.boolValue == true {
            print("[\(taskId)] merged at \(merge.text("commit"))")
            try update(taskId, state: "done", extra: [("sessionId", .string(sessions.merge))])
        } else {
            let conflicts = merge.strings("conflicts").joined(separator: ", ")
            try update(taskId, state: "failed", extra: [("failureReason", .string("merge conflict in \(conflicts)"))])
        }
    }

    /// Puts an iteration's check results into the Dev checkpoint: passing ones done, failing ones pending
    /// with their output's end, so the next (fresh) iteration knows them.
    private func noteResults(_ devSession: String, iteration: Int64, results: JSONObject) throws(AgentError) {
        let checks = results["checks"]?.arrayValue ?? []
        let passing = checks.filter { $0["passed"]?.boolValue == true }.map {
            "check \($0["name"]?.stringValue ?? "") passes"
        }
        var pending = checks.filter { $0["passed"]?.boolValue != true }.map { check in
            let tail = (check["outputTail"]?.stringValue ?? "").suffix(600)
            return "make check \(check["name"]?.stringValue ?? "") pass (iteration \(iteration) failed with exit "
                + "\(check["exitCode"]?.intValue ?? -1)\(check["timedOut"]?.boolValue == true ? ", timed out" : ""): \(tail))"
        }
        if let devError = results["devError"]?.stringValue {
            pending.append("iteration \(iteration) failed: \(devError)")
        }
        let passed = results["passed"]?.boolValue == true
        var fields = JSONObject([
            ("summary", .string("After iteration \(iteration): \(passing.count) of \(checks.count) checks pass.")),
            ("pending", .array(pending.map(JSON.string))),
        ])
        let current = try link.checkpoint(devSession)
        fields["completed"] = .array(
            (current.strings("completed").filter { !$0.hasPrefix("check ") } + passing).map(JSON.string))
        if passed { fields["blockers"] = .array([]) }
        try link.updateCheckpoint(devSession, fields)
    }

    private func record(_ taskId: String, _ iteration: Int64, _ results: JSONObject) throws(AgentError) {
        try link.call(
            "task:recordIteration",
            JSONObject([("taskId", .string(taskId)), ("iteration", .int(iteration)), ("results", .object(results))]))
    }

    private func update(_ taskId: String, state: String, extra: [(String, JSON)]) throws(AgentError) {
        var params = JSONObject([("taskId", .string(taskId)), ("state", .string(state))])
        for (key, value) in extra { params[key] = value }
        try link.call("task:update", params)
    }
}

/// The sessions ralph keeps for one task, one per agent, named after it.
struct TaskSessions {
    let taskId: String
    var dev: String { "\(taskId)-dev" }
    var qa: String { "\(taskId)-qa" }
    var harness: String { "\(taskId)-harness" }
    var merge: String { "\(taskId)-merge" }

    func ensure(_ link: BrokerLink, featureId: String) throws(AgentError) {
        for (id, type) in [(dev, "dev"), (qa, "qa"), (harness, "harness"), (merge, "merge")] {
            try link.ensureSession(id, type: type, featureId: featureId, taskId: taskId)
        }
    }
}
