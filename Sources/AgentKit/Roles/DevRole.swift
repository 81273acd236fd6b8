import BrokerClient
import BrokerProtocol
import Foundation

/// One Dev iteration of one task: a fresh request, the model's changes applied in the task's worktree, a commit.
///
/// Payload `{taskId, iteration, sessionId}`; result `{commit, changedFiles, summary, usage}`.
public struct DevRole: AgentRole {
    public init() {}
    public var service: String { "dev" }
    public var modelNeed: ModelNeed { .required }

    public var agentDescription: String {
        """
        You are the Dev agent of a software team. You change the code of one task so that its checks pass. \
        Your checkpoint lists what earlier iterations did and which checks failed, with the end of their output.
        """
    }

    static let format = """
        Start with a short summary of what you change. Then give every change as one of:
        - a line `FILE: relative/path` followed directly by a fenced code block with the complete new file;
        - a ```diff fenced unified diff (applied with git apply);
        - a line `DELETE: relative/path`.
        """

    public func perform(_ job: WorkerJob, _ context: JobContext) throws(AgentError) -> JSON {
        let taskJob = try TaskJob(context)
        let (taskId, sessionId, iteration, task) = (taskJob.taskId, taskJob.sessionId, taskJob.iteration, taskJob.task)
        let worktree = try taskJob.worktree()
        // Each iteration starts from a fresh request: earlier chat is archived, the checkpoint carries on.
        try context.link.call("session:clearMessages", JSONObject([("sessionId", .string(sessionId))]))
        var sessionContext = TaskContext.describe(task)
        sessionContext["iteration"] = .int(iteration)
        sessionContext["files"] = .object(TaskContext.smallFiles(in: worktree))
        try context.prepareSession(sessionId, description: agentDescription, context: sessionContext)

        let turn = ModelTurn(
            link: context.link, provider: try context.provider(workingDirectory: worktree), sessionId: sessionId)
        let question = """
            Iteration \(iteration) of task \(taskId): \(task.text("title"))

            \(task.text("description"))

            Checks that must pass, run from the repository root:
            \(TaskContext.checkList(task))

            \(Self.format)
            """
        let answer = try turn.ask(question, key: context.key)
        let edits = FileEdit.parse(answer.text)
        let git = Git(worktree)
        do {
            for edit in edits { try WorktreeEdits.apply(edit, in: worktree, git: git) }
            let summary = TaskContext.summary(of: answer.text)
            let message = "\(taskId): iteration \(iteration)"
            try git.run("add", "-A")
            if try git.run("status", "--porcelain").isEmpty {
                // A retried job whose first attempt already committed finds its commit; otherwise nothing changed.
                guard try git.run("log", "-1", "--format=%s") == message else {
                    throw AgentError("the model's answer changed nothing (no FILE, diff or DELETE edits)")
                }
            } else {
                try git.run("commit", "-q", "-m", message, "-m", summary)
            }
            let commit = try git.run("rev-parse", "--short", "HEAD")
            let changed = try git.run("diff", "--name-only", "HEAD~1", "HEAD").split(separator: "\n").map(String.init)
            let checkpoint = try context.link.checkpoint(sessionId)
            try context.link.updateCheckpoint(
                sessionId,
                JSONObject([
                    ("summary", .string("Iteration \(iteration): \(summary)")),
                    (
                        "completed",
                        .array(
                            checkpoint.strings("completed").map(JSON.string)
                                + [
                                    .string(
                                        "iteration \(iteration): commit \(commit) changed \(changed.joined(separator: ", "))"
                                    )
                                ])
                    ),
                ]))
            return .object(
                JSONObject([
                    ("commit", .string(commit)), ("changedFiles", .array(changed.map(JSON.string))),
                    ("summary", .string(summary)), ("usage", answer.usageJSON),
                ]))
        } catch let error as GitError {
            throw AgentError("\(error)")
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError("\(error)")
        }
    }
}

/// Applying a model's edits inside a worktree, refusing paths that leave it.
enum WorktreeEdits {
    static func apply(_ edit: FileEdit, in worktree: String, git: Git) throws {
        switch edit {
        case .write(let path, let content):
            let target = try resolve(path, in: worktree)
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: target))
        case .patch(let diff):
            try git.run("apply", "--whitespace=nowarn", "-", input: diff)
        case .delete(let path):
            let target = try resolve(path, in: worktree)
            if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
        }
    }

    /// The absolute path of `path` in the worktree; absolute paths, `..` and `.git` are refused.
    static func resolve(_ path: String, in worktree: String) throws(AgentError) -> String {
        let parts = path.split(separator: "/")
        guard !path.hasPrefix("/"), !parts.isEmpty, !parts.contains(".."), parts.first != ".git" else {
            throw AgentError("refused to write '\(path)': paths must stay inside the worktree")
        }
        return worktree + "/" + parts.joined(separator: "/")
    }
}
