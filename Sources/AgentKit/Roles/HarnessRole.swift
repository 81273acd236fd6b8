import BrokerClient
import BrokerProtocol
import Foundation

/// Reviews a task's diff and its QA report with the model; answers approve or reject with reasons.
///
/// Payload `{taskId, iteration, sessionId}`; result `{approved, reasons, usage}`.
public struct HarnessRole: AgentRole {
    public init() {}
    public var service: String { "harness" }
    public var modelNeed: ModelNeed { .required }

    public var agentDescription: String {
        """
        You are the Harness agent of a software team: the reviewer. A task's checks pass; you decide whether \
        its change is fit to merge into the feature branch, or must go back to the developer with reasons.
        """
    }

    public func perform(_ job: WorkerJob, _ context: JobContext) throws(AgentError) -> JSON {
        let taskJob = try TaskJob(context)
        let (taskId, sessionId, iteration, task, workspace) = (
            taskJob.taskId, taskJob.sessionId, taskJob.iteration, taskJob.task, taskJob.workspace
        )
        let diff = (try? Git(workspace.repo).run("diff", "\(workspace.baseBranch)...\(workspace.branch)")) ?? ""
        let report =
            task["iterations"]?.arrayValue?.last.map { last in
                (last["results"]?["checks"]?.arrayValue ?? []).map { check in
                    "- \(check["name"]?.stringValue ?? ""): \(check["passed"]?.boolValue == true ? "pass" : "FAIL")"
                }.joined(separator: "\n")
            } ?? "(no QA report)"
        try context.prepareSession(sessionId, description: agentDescription, context: TaskContext.describe(task))
        let turn = ModelTurn(link: context.link, provider: try context.provider(), sessionId: sessionId)
        let answer = try turn.ask(
            """
            Review task \(taskId) (iteration \(iteration)): \(task.text("title"))

            QA report:
            \(report)

            Diff against \(workspace.baseBranch):
            ```diff
            \(String(diff.prefix(60_000)))
            ```

            Answer with JSON: {"verdict": "approve" or "reject", "reasons": ["…"]}
            """, key: context.key)
        let verdict = Verdict.parse(answer.text)
        let checkpoint = try context.link.checkpoint(sessionId)
        let line =
            "iteration \(iteration): \(verdict.approved ? "approve" : "reject") — \(verdict.reasons.joined(separator: "; "))"
        try context.link.updateCheckpoint(
            sessionId,
            JSONObject([
                ("summary", .string("Last review: \(line)")),
                ("decisions", .array((checkpoint.strings("decisions") + [line]).map(JSON.string))),
            ]))
        return .object(
            JSONObject([
                ("approved", .bool(verdict.approved)), ("reasons", .array(verdict.reasons.map(JSON.string))),
                ("usage", answer.usageJSON),
            ]))
    }
}

/// A reviewer's decision, from JSON `{verdict, reasons}` or text that starts with APPROVE or REJECT.
struct Verdict: Equatable {
    var approved: Bool
    var reasons: [String]

    static func parse(_ answer: String) -> Verdict {
        if let object = AnswerParsing.jsonObject(in: answer), let verdict = object["verdict"]?.stringValue {
            return Verdict(approved: verdict.lowercased().hasPrefix("approve"), reasons: object.strings("reasons"))
        }
        let trimmed = answer.trimmingSpaces
        let approved = trimmed.uppercased().hasPrefix("APPROVE")
        let rest = trimmed.drop { $0.isLetter }.trimmingCharacters(
            in: .whitespacesAndNewlines.union(.punctuationCharacters))
        // Anything that is not a clear approval is a rejection: an unreadable review must not merge.
        return Verdict(approved: approved, reasons: rest.isEmpty ? [] : [String(rest.prefix(2_000))])
    }
}
