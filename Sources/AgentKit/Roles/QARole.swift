import BrokerClient
import BrokerProtocol

/// Runs a task's checks in its worktree, each with its time-out, and reports each pass or fail.
///
/// Payload `{taskId, iteration, sessionId}`; result `{passed, checks: [{name, command, passed, exitCode,
/// timedOut, durationMs, outputTail}], review?}`. With `review`, the model also reviews the task's diff.
public struct QARole: AgentRole {
    public let review: Bool

    public init(review: Bool = false) { self.review = review }
    public var service: String { "qa" }
    public var modelNeed: ModelNeed { review ? .required : .optional }

    public var agentDescription: String {
        """
        You are the QA agent of a software team. You run a task's checks and, when asked, review its diff \
        for bugs the checks would miss.
        """
    }

    public func perform(_ job: WorkerJob, _ context: JobContext) throws(AgentError) -> JSON {
        let taskJob = try TaskJob(context)
        let (taskId, sessionId, iteration, task, workspace) = (
            taskJob.taskId, taskJob.sessionId, taskJob.iteration, taskJob.task, taskJob.workspace
        )
        let worktree = try taskJob.worktree()
        try context.prepareSession(sessionId, description: agentDescription, context: TaskContext.describe(task))

        var results: [JSON] = []
        var passedNames: [String] = []
        var failedNames: [String] = []
        for check in task["checks"]?.arrayValue ?? [] {
            let name = check["name"]?.stringValue ?? ""
            let command = check["command"]?.stringValue ?? ""
            let run = Shell.sh(command, in: worktree, timeoutMs: check["timeoutMs"]?.intValue ?? 300_000)
            if run.succeeded { passedNames.append(name) } else { failedNames.append(name) }
            results.append(
                .object(
                    JSONObject([
                        ("name", .string(name)), ("command", .string(command)), ("passed", .bool(run.succeeded)),
                        ("exitCode", .int(Int64(run.exitCode))), ("timedOut", .bool(run.timedOut)),
                        ("durationMs", .int(run.durationMs)), ("outputTail", .string(run.tail())),
                    ])))
        }
        let passed = failedNames.isEmpty
        let report =
            "Iteration \(iteration): \(passedNames.count) of \(results.count) checks pass."
            + (failedNames.isEmpty ? "" : " Failing: \(failedNames.joined(separator: ", ")).")
        try context.link.addMessage(sessionId, role: "assistant", content: report, messageId: "\(context.key)-report")
        try context.link.updateCheckpoint(
            sessionId,
            JSONObject([
                ("summary", .string(report)), ("completed", .array(passedNames.map(JSON.string))),
                ("pending", .array(failedNames.map(JSON.string))),
            ]))
        var result = JSONObject([("passed", .bool(passed)), ("checks", .array(results))])
        if review {
            let diff = (try? Git(worktree).run("diff", "\(workspace.baseBranch)...HEAD")) ?? ""
            let turn = ModelTurn(link: context.link, provider: try context.provider(), sessionId: sessionId)
            let answer = try turn.ask(
                "Review this diff of task \(taskId) for bugs the checks would miss. Be brief.\n\n```diff\n"
                    + String(diff.prefix(60_000)) + "\n```", key: context.key)
            result["review"] = .string(answer.text)
        }
        return .object(result)
    }
}
