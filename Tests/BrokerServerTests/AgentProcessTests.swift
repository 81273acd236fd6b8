import BrokerProtocol
import Foundation
import Testing

/// Each agent executable (pm, dev, qa, harness, merge) as a real process attached to an in-process broker: the
/// test submits the jobs itself, the model answers come from replay files, the work happens in a scratch git
/// repository. Serialized: every test starts processes, and the machine is small.
@Suite("agents, each on its own", .serialized)
struct AgentProcessTests {
    @Test("pm-agent: a malformed plan is asked again; the valid one becomes tasks with workspaces and dependencies")
    func pmPlansTasks() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo()
        let malformed = "Sure! First add mul, then document it."
        let plan = """
            Here is the plan.

            ```json
            {"tasks": [
              {"key": "t1", "title": "Add mul", "description": "mul in calc.sh", "checks": ["sh tests/test_mul.sh"]},
              {"key": "t2", "title": "Document mul",
               "checks": [{"name": "readme", "command": "grep -q mul README.md", "timeoutMs": 10000}],
               "dependsOn": ["t1"]}
            ]}
            ```
            """
        try agents.start("pm", model: .replay([malformed, plan]))
        try agents.waitForWorkers(["pm": 1])

        let job = try agents.runJob(
            "pm",
            [
                "featureId": "calc", "description": "Add mul to calc.sh and document it.",
                "repo": .string(repo.path), "featureBranch": "feature/calc",
            ], jobId: "calc:pm")
        #expect(job["state"] == "completed", "\(agents.explain(job))")
        #expect(job["result"]?["taskIds"] == ["calc-t1", "calc-t2"])

        let tasks = (try agents.call("task:list", ["featureId": "calc"])["tasks"]?.arrayValue ?? [])
            .compactMap(\.objectValue)
        try #require(tasks.count == 2, "\(tasks.map { JSON.object($0).serializedString })")
        let (t1, t2) = (tasks[0], tasks[1])
        #expect(t1["taskId"] == "calc-t1" && t2["taskId"] == "calc-t2")
        for task in tasks {
            let id = task["taskId"]?.stringValue ?? "?"
            #expect(task["state"] == "planning")
            #expect(task["workspace"]?["repo"] == .string(repo.path))
            #expect(task["workspace"]?["baseBranch"] == "feature/calc")
            #expect(task["workspace"]?["branch"] == .string("task/\(id)"))
        }
        #expect(t1["dependsOn"] == [])
        #expect(t2["dependsOn"] == ["calc-t1"])
        #expect(t1["checks"]?.arrayValue?.first?["command"] == "sh tests/test_mul.sh")
        #expect(t2["checks"]?.arrayValue?.first?["name"] == "readme")
        #expect(t2["checks"]?.arrayValue?.first?["timeoutMs"] == 10000)

        // Two asks: the malformed answer, the complaint about it, the valid plan.
        let messages = try agents.messages("calc-pm")
        try #require(messages.count == 4, "\(messages.map { JSON.object($0).serializedString })")
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant", "user", "assistant"])
        #expect(messages[0]["content"]?.stringValue?.contains("Add mul to calc.sh and document it.") == true)
        #expect(messages[1]["content"] == .string(malformed))
        #expect(messages[2]["content"]?.stringValue?.contains("not valid") == true)
        #expect(messages[3]["content"]?.stringValue?.contains(#""key": "t2""#) == true)
        #expect(try agents.checkpoint("calc-pm")["summary"] == "Planned 2 tasks for calc.")
    }

    @Test("dev-agent: a FILE block becomes a commit on the task branch; an answer without edits fails the job")
    func devCommitsEdits() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["README.md": "# hello\n", "test.sh": "test -f hello.txt\n"])
        try agents.createTask(
            "t-dev", feature: "f1", title: "Say hello", description: "Write hello.txt.", checks: ["sh test.sh"],
            repo: repo)
        try agents.createSession("t-dev-dev", type: "dev", feature: "f1", task: "t-dev")
        let answer = "Wrote the greeting in hello.txt.\n\nFILE: hello.txt\n```text\nhello, world\n```\n"
        try agents.start("dev", model: .replay([answer, "I changed nothing"]))
        try agents.waitForWorkers(["dev": 1])

        let first = try agents.runJob(
            "dev", ["taskId": "t-dev", "iteration": 1, "sessionId": "t-dev-dev"], jobId: "t-dev:dev:1")
        #expect(first["state"] == "completed", "\(agents.explain(first))")
        let result = try #require(first["result"]?.objectValue)
        let commit = try #require(result["commit"]?.stringValue)
        #expect(!commit.isEmpty)
        #expect(try repo.git("rev-parse", "task/t-dev").hasPrefix(commit))
        #expect(result["changedFiles"] == ["hello.txt"])
        #expect(result["summary"] == "Wrote the greeting in hello.txt.")
        #expect(try repo.git("log", "feature/f1..task/t-dev", "--format=%s") == "t-dev: iteration 1")
        #expect(try repo.show("task/t-dev", "hello.txt") == "hello, world\n")
        // The feature branch was made from HEAD; the user's checkout saw nothing (the worktree is inside .git).
        #expect(try repo.git("rev-parse", "feature/f1") == repo.git("rev-parse", "main"))
        #expect(try repo.git("status", "--porcelain") == "")
        #expect(try repo.git("rev-parse", "--abbrev-ref", "HEAD") == "main")
        let completed = try agents.checkpoint("t-dev-dev")["completed"]?.arrayValue ?? []
        #expect(completed.first?.stringValue?.hasPrefix("iteration 1: commit \(commit)") == true)

        let second = try agents.runJob(
            "dev", ["taskId": "t-dev", "iteration": 2, "sessionId": "t-dev-dev"], jobId: "t-dev:dev:2")
        #expect(second["state"] == "failed", "\(agents.explain(second))")
        #expect(second["error"]?.stringValue?.contains("changed nothing") == true)
        #expect(second["attempts"] == 1)
        #expect(try repo.git("log", "feature/f1..task/t-dev", "--format=%s") == "t-dev: iteration 1")
        // Iteration 2 started from a fresh request: iteration 1's exchange is archived.
        let active = try agents.messages("t-dev-dev")
        #expect(active.count == 2)
        #expect(active.last?["content"] == "I changed nothing")
        #expect(try agents.messages("t-dev-dev", includeArchived: true).count == 4)
    }

    @Test("qa-agent: runs every check in the worktree, with its time-out, exit code and output tail")
    func qaRunsChecks() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["pass.sh": "echo fine\n", "fail.sh": "echo boom\nexit 3\n"])
        try agents.createTask(
            "t-qa", feature: "qa", title: "Three checks",
            checks: ["sh pass.sh", ["name": "slow", "command": "sleep 5", "timeoutMs": 1000], "sh fail.sh"],
            repo: repo)
        try agents.createSession("t-qa-qa", type: "qa", feature: "qa", task: "t-qa")
        try agents.start("qa")
        try agents.waitForWorkers(["qa": 1])

        let job = try agents.runJob(
            "qa", ["taskId": "t-qa", "iteration": 1, "sessionId": "t-qa-qa"], jobId: "t-qa:qa:1")
        #expect(job["state"] == "completed", "\(agents.explain(job))")
        let result = try #require(job["result"]?.objectValue)
        #expect(result["passed"] == false)
        let checks = try #require(result["checks"]?.arrayValue)
        try #require(checks.count == 3, "\(JSON.object(result).serializedString)")
        // name, passed, exitCode, timedOut of each check, in the task's order.
        let outcomes = checks.map { check in
            [
                check["name"]?.stringValue ?? "?", "\(check["passed"]?.boolValue ?? true)",
                "\(check["exitCode"]?.intValue ?? 0)", "\(check["timedOut"]?.boolValue ?? true)",
            ]
        }
        #expect(outcomes[0] == ["sh pass.sh", "true", "0", "false"])
        #expect(outcomes[1][0] == "slow" && outcomes[1][1] == "false")
        #expect(outcomes[1][3] == "true", "the sleep ran into its 1 s time-out")
        #expect(outcomes[2] == ["sh fail.sh", "false", "3", "false"])
        #expect(checks[0]["command"] == "sh pass.sh")
        #expect(checks[0]["outputTail"]?.stringValue?.contains("fine") == true)
        #expect((checks[1]["durationMs"]?.intValue ?? .max) < 4_500, "killed at its 1 s time-out, not after 5 s")
        #expect(checks[2]["outputTail"]?.stringValue?.contains("boom") == true)
        let checkpoint = try agents.checkpoint("t-qa-qa")
        #expect(checkpoint["completed"] == ["sh pass.sh"])
        #expect(checkpoint["pending"] == ["slow", "sh fail.sh"])
    }

    @Test("harness-agent: a JSON rejection with reasons, then a plain-text APPROVE")
    func harnessVerdicts() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["greet.sh": "echo hi\n"])
        try repo.git("branch", "feature/h")
        try repo.commitOnBranch("task/t-h", from: "feature/h", files: ["greet.sh": "echo hello\n"], message: "louder")
        try agents.createTask("t-h", feature: "h", title: "Greet louder", checks: ["sh greet.sh"], repo: repo)
        try agents.createSession("t-h-harness", type: "harness", feature: "h", task: "t-h")
        try agents.start(
            "harness", model: .replay([#"{"verdict": "reject", "reasons": ["no tests"]}"#, "APPROVE looks good"]))
        try agents.waitForWorkers(["harness": 1])

        let rejected = try agents.runJob(
            "harness", ["taskId": "t-h", "iteration": 1, "sessionId": "t-h-harness"], jobId: "t-h:harness:1")
        #expect(rejected["state"] == "completed", "\(agents.explain(rejected))")
        #expect(rejected["result"]?["approved"] == false)
        #expect(rejected["result"]?["reasons"] == ["no tests"])

        let approved = try agents.runJob(
            "harness", ["taskId": "t-h", "iteration": 2, "sessionId": "t-h-harness"], jobId: "t-h:harness:2")
        #expect(approved["state"] == "completed", "\(agents.explain(approved))")
        #expect(approved["result"]?["approved"] == true)
        #expect(approved["result"]?["reasons"] == ["looks good"])

        // The reviewer was shown the task's diff against the feature branch.
        let messages = try agents.messages("t-h-harness")
        #expect(messages.first?["content"]?.stringValue?.contains("+echo hello") == true)
        let decisions = try agents.checkpoint("t-h-harness")["decisions"]?.arrayValue ?? []
        #expect(decisions.count == 2)
        #expect(decisions.first?.stringValue?.hasPrefix("iteration 1: reject") == true)
        #expect(decisions.last?.stringValue?.hasPrefix("iteration 2: approve") == true)
    }

    @Test("merge-agent: a clean merge lands on the feature branch; a conflict leaves it and the checkout untouched")
    func mergeBranches() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["notes.txt": "line one\n"])
        try repo.commitOnBranch("task/m1", from: "main", files: ["a.txt": "from task m1\n"], message: "m1: a.txt")
        try repo.commitOnBranch(
            "task/m2", from: "main", files: ["notes.txt": "line one, as the task says\n"], message: "m2: reword")
        try repo.commitOnBranch(
            "feature/f", from: "main", files: ["notes.txt": "line one, as the feature says\n"], message: "f: reword")
        try agents.createTask("m1", feature: "f", title: "Add a.txt", checks: ["true"], repo: repo)
        try agents.createTask("m2", feature: "f", title: "Reword the notes", checks: ["true"], repo: repo)
        try agents.createSession("m1-merge", type: "merge", feature: "f", task: "m1")
        try agents.createSession("m2-merge", type: "merge", feature: "f", task: "m2")
        try agents.start("merge")
        try agents.waitForWorkers(["merge": 1])

        let clean = try agents.runJob("merge", ["taskId": "m1", "sessionId": "m1-merge"], jobId: "m1:merge:1")
        #expect(clean["state"] == "completed", "\(agents.explain(clean))")
        #expect(clean["result"]?["merged"] == true)
        #expect(clean["result"]?["conflicts"] == [])
        let mergeCommit = try #require(clean["result"]?["commit"]?.stringValue)
        #expect(try repo.git("rev-parse", "feature/f").hasPrefix(mergeCommit))
        #expect(try repo.git("log", "feature/f", "--format=%s").contains("Merge task/m1: Add a.txt"))
        #expect(try repo.git("rev-list", "--parents", "-n", "1", "feature/f").split(separator: " ").count == 3)
        #expect(try repo.show("feature/f", "a.txt") == "from task m1\n")

        let before = try repo.git("rev-parse", "feature/f")
        let conflicted = try agents.runJob("merge", ["taskId": "m2", "sessionId": "m2-merge"], jobId: "m2:merge:1")
        #expect(conflicted["state"] == "completed", "\(agents.explain(conflicted))")
        #expect(conflicted["result"]?["merged"] == false)
        #expect(conflicted["result"]?["conflicts"] == ["notes.txt"])
        #expect(conflicted["result"]?["commit"]?.isNull == true)
        #expect(try repo.git("rev-parse", "feature/f") == before)
        #expect(try repo.show("feature/f", "notes.txt") == "line one, as the feature says\n")
        #expect(try agents.checkpoint("m2-merge")["blockers"] == ["merge conflict in notes.txt"])
        // The half-done merge was aborted in the agent's worktree ...
        #expect(try repo.git(in: repo.agentWorktree("merge-f"), ["status", "--porcelain"]) == "")
        // ... and the user's checkout never moved.
        #expect(try repo.git("status", "--porcelain") == "")
        #expect(try repo.git("rev-parse", "--abbrev-ref", "HEAD") == "main")
        #expect(try String(contentsOfFile: repo.path + "/notes.txt", encoding: .utf8) == "line one\n")
    }

    @Test("a dev-agent killed with SIGKILL mid-job: the broker notices, and another dev-agent finishes the job")
    func killedDevAgent() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["README.md": "# crash test\n"])
        try agents.createTask("t-kill", feature: "k", title: "Survive a crash", checks: ["true"], repo: repo)
        try agents.createSession("t-kill-dev", type: "dev", feature: "k", task: "t-kill")
        let stuck = try agents.start("dev", model: .command("sleep 60"), name: "dev-stuck")
        try agents.waitForWorkers(["dev": 1])

        let jobId = "t-kill:dev:1"
        try agents.submit(
            "dev", ["taskId": "t-kill", "iteration": 1, "sessionId": "t-kill-dev"], jobId: jobId, maxAttempts: 3)
        // Running on the stuck agent, past its worktree and session set-up (its context is the last thing it
        // writes before the model call), so the kill lands while it waits for `sleep 60`.
        var firstWorker = ""
        try agents.waitUntil("the job running on dev-stuck, in its model call") {
            let job = try agents.call("job:get", ["jobId": .string(jobId)])
            let context = try agents.call("session:getContext", ["sessionId": "t-kill-dev"])
            firstWorker = job["worker"]?.stringValue ?? ""
            let inModelCall = context["context"]?["iteration"] == 1
            return job["state"] == "running" && !firstWorker.isEmpty && inModelCall
        }
        agents.sigkill(stuck)
        #expect(!stuck.isRunning)
        try agents.start(
            "dev", model: .replay(["Recovered.\n\nFILE: survived.txt\n```\nstill here\n```\n"]), name: "dev-rescue")

        let job = try agents.waitForJob(jobId)
        #expect(job["state"] == "completed", "\(agents.explain(job))")
        #expect(job["attempts"] == 2)
        let secondWorker = try #require(job["worker"]?.stringValue)
        #expect(secondWorker != firstWorker)
        #expect(job["result"]?["changedFiles"] == ["survived.txt"])
        #expect(try repo.git("log", "feature/k..task/t-kill", "--format=%s") == "t-kill: iteration 1")

        let detached = try agents.broker.events("worker:detached")
        #expect(
            detached.contains { $0["workerId"] == .string(firstWorker) && $0["reason"] == "heartbeat lost" },
            "\(detached.map { JSON.object($0).serializedString })")
        let queued = try agents.broker.events("job:queued").filter { $0["jobId"] == .string(jobId) }
        #expect(queued.map { $0["reason"]?.stringValue ?? "" } == ["submitted", "worker lost"])
        #expect(queued.last?["attempt"] == 2)
    }
}
