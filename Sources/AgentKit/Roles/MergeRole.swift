import BrokerClient
import BrokerProtocol
import Foundation

/// Merges a task's branch into its feature branch; on a conflict asks the model for the resolved files.
///
/// Payload `{taskId, sessionId}`; result `{merged, commit, conflicts}`. The merge happens in the agent's own
/// worktree of the feature branch, so the user's checkout is never touched.
public struct MergeRole: AgentRole {
    public init() {}
    public var service: String { "merge" }
    public var modelNeed: ModelNeed { .optional }

    public var agentDescription: String {
        """
        You are the Merge agent of a software team. When a merge conflicts, you write each conflicted file \
        as it should be after the merge, keeping the intent of both sides.
        """
    }

    public func perform(_ job: WorkerJob, _ context: JobContext) throws(AgentError) -> JSON {
        let taskJob = try TaskJob(context)
        let (sessionId, task, workspace) = (taskJob.sessionId, taskJob.task, taskJob.workspace)
        do {
            let path = try mergeWorktree(workspace, featureId: task.text("featureId"))
            let git = Git(path)
            let merge = Shell.run(
                [
                    "git", "merge", "--no-ff", "-m", "Merge \(workspace.branch): \(task.text("title"))",
                    workspace.branch,
                ],
                in: path, timeoutMs: 120_000, environment: Git.identity)
            if merge.succeeded {
                return try merged(git, sessionId: sessionId, context, note: "merged \(workspace.branch)")
            }
            let conflicts = try git.run("diff", "--name-only", "--diff-filter=U").split(separator: "\n").map(
                String.init)
            guard !conflicts.isEmpty else { throw AgentError("git merge failed: \(merge.tail(1_000))") }
            context.log("merge of \(workspace.branch) conflicts in \(conflicts.joined(separator: ", "))")
            if context.modelSettings != nil, try resolve(conflicts, in: path, sessionId: sessionId, context) {
                try git.run(["add", "--"] + conflicts)
                try git.run("commit", "-q", "--no-edit")
                return try merged(
                    git, sessionId: sessionId, context,
                    note: "resolved conflicts in \(conflicts.joined(separator: ", "))")
            }
            try git.run("merge", "--abort")
            try context.link.updateCheckpoint(
                sessionId, JSONObject([("blockers", .array(conflicts.map { .string("merge conflict in \($0)") }))]))
            return .object(
                JSONObject([
                    ("merged", .bool(false)), ("commit", .null), ("conflicts", .array(conflicts.map(JSON.string))),
                ]))
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError("\(error)")
        }
    }

    private func merged(_ git: Git, sessionId: String, _ context: JobContext, note: String) throws -> JSON {
        let commit = try git.run("rev-parse", "--short", "HEAD")
        let checkpoint = try context.link.checkpoint(sessionId)
        try context.link.updateCheckpoint(
            sessionId,
            JSONObject([
                ("summary", .string("Merged at \(commit).")),
                ("completed", .array((checkpoint.strings("completed") + ["\(note) at \(commit)"]).map(JSON.string))),
            ]))
        return .object(JSONObject([("merged", .bool(true)), ("commit", .string(commit)), ("conflicts", .array([]))]))
    }

    /// The feature branch's merge worktree, clean (a merge left half-done by a killed agent is abandoned).
    private func mergeWorktree(_ workspace: TaskWorkspace, featureId: String) throws -> String {
        let git = Git(workspace.repo)
        let path = TaskWorkspace.worktreePath(repo: workspace.repo, name: "merge-\(featureId)")
        if !FileManager.default.fileExists(atPath: path + "/.git") {
            _ = try? git.run("worktree", "prune")
            try git.run("worktree", "add", path, workspace.baseBranch)
        } else {
            let tree = Git(path)
            if tree.succeeds("rev-parse", "-q", "--verify", "MERGE_HEAD") { try tree.run("merge", "--abort") }
            try tree.run("reset", "-q", "--hard", "HEAD")
        }
        return path
    }

    /// Asks the model for the conflicted files; true when every one came back without conflict markers.
    private func resolve(_ conflicts: [String], in path: String, sessionId: String, _ context: JobContext) throws
        -> Bool
    {
        var question = "These files conflict. Answer with each resolved file as `FILE: path` and a fenced block.\n"
        for file in conflicts {
            let text = (try? String(contentsOfFile: path + "/" + file, encoding: .utf8)) ?? ""
            question += "\nFILE: \(file)\n```\n\(text)\n```\n"
        }
        let turn = ModelTurn(link: context.link, provider: try context.provider(), sessionId: sessionId)
        let edits = FileEdit.parse(try turn.ask(question, key: context.key).text)
        for edit in edits {
            guard case .write(let file, let content) = edit, conflicts.contains(file), !content.contains("<<<<<<<")
            else {
                continue
            }
            try WorktreeEdits.apply(edit, in: path, git: Git(path))
        }
        return conflicts.allSatisfy { file in
            let text = (try? String(contentsOfFile: path + "/" + file, encoding: .utf8)) ?? "<<<<<<<"
            return !text.contains("<<<<<<<") && !text.contains(">>>>>>>")
        }
    }
}
