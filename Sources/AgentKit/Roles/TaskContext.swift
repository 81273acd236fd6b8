import BrokerProtocol
import Foundation

/// What the agents put in front of a model about a task, and how they read a task's workspace.
enum TaskContext {
    static func workspace(of task: JSONObject) throws(AgentError) -> TaskWorkspace {
        guard let workspace = task["workspace"]?.objectValue else {
            throw AgentError("task '\(task.text("taskId"))' has no workspace {repo, baseBranch, branch}")
        }
        return TaskWorkspace(
            repo: workspace.text("repo"), baseBranch: workspace.text("baseBranch"), branch: workspace.text("branch"),
            taskId: task.text("taskId"))
    }

    /// The task as the session context shows it.
    static func describe(_ task: JSONObject) -> JSONObject {
        JSONObject([
            ("task", .string("\(task.text("taskId")): \(task.text("title"))")),
            ("description", .string(task.text("description"))),
            ("checks", .string(checkList(task))),
            ("branch", task["workspace"]?["branch"] ?? .null),
        ])
    }

    static func checkList(_ task: JSONObject) -> String {
        (task["checks"]?.arrayValue ?? []).map { check in
            let name = check["name"]?.stringValue ?? ""
            let command = check["command"]?.stringValue ?? ""
            return name == command ? "- `\(command)`" : "- \(name): `\(command)`"
        }.joined(separator: "\n")
    }

    /// Tracked text files of the worktree, smallest first, up to 32 KiB in all: what a model needs to edit them.
    static func smallFiles(in worktree: String, budget: Int = 32 * 1024) -> JSONObject {
        guard let listing = try? Git(worktree).run("ls-files") else { return JSONObject() }
        var files: [(String, String)] = []
        for path in listing.split(separator: "\n").map(String.init) {
            guard let data = FileManager.default.contents(atPath: worktree + "/" + path), data.count <= 8 * 1024,
                let text = String(data: data, encoding: .utf8)
            else { continue }
            files.append((path, text))
        }
        var used = 0
        var object = JSONObject()
        for (path, text) in files.sorted(by: { $0.1.utf8.count < $1.1.utf8.count })
        where used + text.utf8.count <= budget {
            used += text.utf8.count
            object[path] = .string(text)
        }
        return object
    }

    /// The answer's first paragraph that is not an edit, shortened: the commit body and the checkpoint line.
    static func summary(of answer: String) -> String {
        let paragraph =
            answer.components(separatedBy: "\n\n").first {
                let text = $0.trimmingCharacters(in: .whitespacesAndNewlines)
                return !text.isEmpty && !text.hasPrefix("FILE:") && !text.hasPrefix("```") && !text.hasPrefix("DELETE:")
            } ?? "changes applied"
        let flat = paragraph.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return flat.count <= 300 ? flat : String(flat.prefix(300)) + "…"
    }
}

/// What every task job's payload names, with the task and its workspace fetched: the start of each role's job.
struct TaskJob {
    let taskId: String
    let sessionId: String
    let iteration: Int64
    let task: JSONObject
    let workspace: TaskWorkspace

    init(_ context: JobContext) throws(AgentError) {
        taskId = try context.payloadString("taskId")
        sessionId = try context.payloadString("sessionId")
        iteration = context.job.payload["iteration"]?.intValue ?? 1
        task = try context.link.task(taskId)
        workspace = try TaskContext.workspace(of: task)
    }

    /// The task's worktree, made when missing.
    func worktree() throws(AgentError) -> String {
        do { return try workspace.ensureWorktree() } catch { throw AgentError("\(error)") }
    }
}
