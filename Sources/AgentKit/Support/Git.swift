import Foundation

/// Why a git step failed, with git's own words.
public struct GitError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The git commands the agents need, run in one repository or worktree.
public struct Git: Sendable {
    public let directory: String

    public init(_ directory: String) { self.directory = directory }

    /// Runs git and returns its trimmed output, or throws with it.
    @discardableResult
    public func run(_ arguments: String..., input: String? = nil) throws(GitError) -> String {
        try run(arguments, input: input)
    }

    @discardableResult
    public func run(_ arguments: [String], input: String? = nil) throws(GitError) -> String {
        let result = Shell.run(
            ["git"] + arguments, in: directory, timeoutMs: 120_000, input: input, environment: Self.identity)
        guard result.succeeded else {
            throw GitError(description: "git \(arguments.joined(separator: " ")) failed: \(result.tail(1_000))")
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether `git <arguments>` succeeds (for questions such as "does this branch exist").
    public func succeeds(_ arguments: String...) -> Bool {
        Shell.run(["git"] + arguments, in: directory, timeoutMs: 60_000, environment: Self.identity).succeeded
    }

    public func branchExists(_ branch: String) -> Bool {
        succeeds("rev-parse", "--verify", "--quiet", "refs/heads/\(branch)")
    }

    /// Commits as the agent when the repository has no identity of its own (a fresh scratch repo, CI).
    static let identity: [String: String] = {
        let configured = Shell.run(["git", "config", "user.email"], timeoutMs: 10_000)
        guard !configured.succeeded || configured.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return [:]
        }
        return [
            "GIT_AUTHOR_NAME": "AgentBroker agent", "GIT_AUTHOR_EMAIL": "agent@agentbroker.invalid",
            "GIT_COMMITTER_NAME": "AgentBroker agent", "GIT_COMMITTER_EMAIL": "agent@agentbroker.invalid",
        ]
    }()
}

/// Where a task's work happens: the repository, the feature branch it merges into, and its own branch.
public struct TaskWorkspace: Sendable {
    public var repo: String
    public var baseBranch: String
    public var branch: String
    public var taskId: String

    /// `<repo>/.git/agentbroker/worktrees/<name>`: inside .git, so the user's checkout shows nothing new.
    public static func worktreePath(repo: String, name: String) -> String {
        let gitDir = (try? Git(repo).run("rev-parse", "--absolute-git-dir")) ?? "\(repo)/.git"
        return "\(gitDir)/agentbroker/worktrees/\(name)"
    }

    /// The task's worktree on its branch, made (with the feature branch, from HEAD) when missing.
    public func ensureWorktree() throws(GitError) -> String {
        let git = Git(repo)
        if !git.branchExists(baseBranch) { try git.run("branch", baseBranch, "HEAD") }
        let path = Self.worktreePath(repo: repo, name: taskId)
        if FileManager.default.fileExists(atPath: path + "/.git") { return path }
        _ = try? git.run("worktree", "prune")
        if git.branchExists(branch) {
            try git.run("worktree", "add", path, branch)
        } else {
            try git.run("worktree", "add", "-b", branch, path, baseBranch)
        }
        return path
    }
}
