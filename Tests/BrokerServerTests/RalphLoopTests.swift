import BrokerProtocol
import Foundation
import Testing

/// The real `ralph` executable driving tasks through the five real agents (pm, dev and harness on replayed
/// model answers; qa and merge without a model) against an in-process broker, in scratch git repositories:
/// the demo feature end to end, a review that sends a task back to Dev, and a task that runs out of iterations.
@Suite("ralph", .serialized)
struct RalphLoopTests {
    static let demo = Processes.repositoryRoot.appendingPathComponent("deploy/demo").path

    @Test("the demo feature: plan, a failing then a passing iteration, review, merge; both tasks done")
    func demoFeature() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let demo = Self.demo
        let repo = try ScratchRepo(copying: demo + "/project")
        try agents.start("pm", model: .replayFile(demo + "/replay/pm.json"))
        try agents.start("dev", model: .replayFile(demo + "/replay/dev.json"))
        try agents.start("qa")
        try agents.start("harness", model: .replayFile(demo + "/replay/harness.json"))
        try agents.start("merge")
        try agents.waitForWorkers(["pm": 1, "dev": 1, "qa": 1, "harness": 1, "merge": 1])

        let feature = "calc-mul"
        let (t1, t2) = ("\(feature)-t1", "\(feature)-t2")
        let plan = try agents.ralph(
            ["plan", "--feature", feature, "--repo", repo.path, "--description-file", demo + "/feature.md"],
            timeout: 60)
        #expect(plan.status == 0, "\(plan.stdout)\n\(plan.stderr)\n\(agents.logs())")
        #expect(plan.stdout.contains("task \(t1): Add the mul subcommand"), "\(plan.stdout)")
        #expect(plan.stdout.contains("task \(t2): Document mul in README.md (after \(t1))"), "\(plan.stdout)")

        let run = try agents.ralph(["run", "--feature", feature], timeout: 180)
        let out = run.stdout
        #expect(run.status == 0, "\(out)\n\(run.stderr)\n\(agents.logs())")
        for line in [
            "[\(t1)] iteration 1: qa 1/2 checks pass; failing: test_mul",
            "[\(t1)] iteration 2: qa 2/2 checks pass",
            "[\(t1)] iteration 2: harness approved",
            "[\(t1)] merged at ",
            "[\(t2)] iteration 1: qa 2/2 checks pass",
            "[\(t2)] iteration 1: harness approved",
            "[\(t2)] merged at ",
            "all 2 tasks done",
        ] {
            #expect(out.contains(line), "missing '\(line)' in:\n\(out)")
        }
        if let failing = out.range(of: "iteration 1: qa 1/2"), let passing = out.range(of: "iteration 2: qa 2/2") {
            #expect(failing.lowerBound < passing.lowerBound)
        }

        let tasks = (try agents.call("task:list", ["featureId": .string(feature)])["tasks"]?.arrayValue ?? [])
            .compactMap(\.objectValue)
        #expect(tasks.map { $0["taskId"]?.stringValue ?? "" } == [t1, t2])
        #expect(tasks.map { $0["state"]?.stringValue ?? "" } == ["done", "done"])
        let first = try agents.call("task:get", ["taskId": .string(t1)])
        let iterations = first["iterations"]?.arrayValue ?? []
        #expect(iterations.compactMap { $0["iteration"]?.intValue } == [1, 2])
        #expect(iterations.compactMap { $0["passed"]?.boolValue } == [false, true])
        #expect(first["iteration"] == 2)

        // The feature branch multiplies (and documents it); the user's checkout is as it was.
        let calc = try repo.show("feature/\(feature)", "calc.sh")
        let script = agents.directory + "/calc-from-feature.sh"
        try calc.write(toFile: script, atomically: true, encoding: .utf8)
        let product = try Processes.run("/bin/sh", [script, "mul", "3", "4"], timeout: 10)
        #expect(product.stdout == "12\n", "\(calc)\n\(product.stderr)")
        #expect(try repo.show("feature/\(feature)", "README.md").contains("sh calc.sh mul 3 4"))
        #expect(try repo.git("log", "feature/\(feature)", "--format=%s").contains("Merge task/\(t2)"))
        #expect(try repo.git("status", "--porcelain") == "")
        let untouched = try repo.show("main", "calc.sh")
        #expect(!untouched.contains("mul"))

        // Dev's checkpoint: nothing pending after the passing iteration; iteration 1's failure was pending in
        // between, which is what the fresh iteration 2 was built from.
        let devSession = "\(t1)-dev"
        let checkpoint = try agents.checkpoint(devSession)
        #expect(checkpoint["pending"] == [], "\(JSON.object(checkpoint).serializedString)")
        #expect(checkpoint["completed"]?.arrayValue?.contains("check test_mul passes") == true)
        let history = try agents.checkpointHistory(devSession)
        #expect(
            history.contains { version in
                (version["pending"]?.arrayValue ?? []).contains {
                    $0.stringValue?.hasPrefix("make check test_mul pass (iteration 1 failed with exit 1") == true
                }
            }, "\(history.map { JSON.object($0).serializedString })")
        // Iteration 2 started fresh: only its own question and answer are active; iteration 1's are archived.
        let active = try agents.messages(devSession)
        #expect(active.count == 2)
        #expect(active.first?["content"]?.stringValue?.hasPrefix("Iteration 2 of task \(t1)") == true)
        #expect(active.last?["content"]?.stringValue?.contains("It multiplies now") == true)
        let all = try agents.messages(devSession, includeArchived: true)
        #expect(all.count == 4)
        #expect(all.first?["archived"] == true)
        #expect(all.first?["content"]?.stringValue?.hasPrefix("Iteration 1 of task \(t1)") == true)
    }

    @Test("ralph killed mid-task resumes from the broker's task state, without doing a job twice")
    func resumesAfterKill() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["README.md": "# resume\n"])
        let taskId = "t-resume"
        try agents.createTask(taskId, feature: "resume", title: "Add ok.txt", checks: ["test -f ok.txt"], repo: repo)
        // A slow model (a command that sleeps, then answers), so ralph can be killed while Dev works.
        let script = agents.directory + "/slow-model.sh"
        try "cat >/dev/null; sleep 2; printf 'Adds ok.txt.\\n\\nFILE: ok.txt\\n```\\nok\\n```\\n'\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        try agents.start("dev", model: .command("sh \(script)"))
        try agents.start("qa")
        try agents.start("harness", model: .replay([#"{"verdict": "approve", "reasons": ["fine"]}"#]))
        try agents.start("merge")
        try agents.waitForWorkers(["dev": 1, "qa": 1, "harness": 1, "merge": 1])

        let api = ["--api", agents.broker.endpoints.api]
        let first = try Processes.start(
            "ralph", ["run", "--task", taskId] + api, logFile: agents.directory + "/ralph-1.log")
        try agents.waitUntil("the first dev job running") {
            (try? agents.call("job:get", ["jobId": .string("\(taskId):dev:1")]))?["state"] == "running"
        }
        kill(first.processIdentifier, SIGKILL)
        _ = Processes.waitForExit(first, timeout: 10)

        let second = try agents.ralph(["run", "--task", taskId], timeout: 120)
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)\n\(agents.logs())")
        #expect(second.stdout.contains("[\(taskId)] iteration 1: dev committed"), "\(second.stdout)")
        let task = try agents.call("task:get", ["taskId": .string(taskId)])
        #expect(task["state"] == "done")
        #expect(task["iteration"] == 1)
        let devJobs = (try agents.call("job:list", ["service": "dev"])["jobs"]?.arrayValue ?? [])
        #expect(devJobs.compactMap { $0["jobId"]?.stringValue } == ["\(taskId):dev:1"])
        #expect(devJobs.first?["attempts"] == 1)
    }

    @Test("a harness rejection sends the task back to Dev with the reasons; the second iteration is approved")
    func rejectionGoesBackToDev() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["ok.sh": "exit 0\n"])
        let taskId = "t-rev"
        try agents.createTask(
            taskId, feature: "rev", title: "Add a greeting function", checks: ["sh ok.sh"], repo: repo)
        try agents.start(
            "dev",
            model: .replay([
                "A greeting.\n\nFILE: greet.sh\n```sh\ngreet() { echo hello; }\n```\n",
                "Renamed as asked.\n\nFILE: greet.sh\n```sh\nsay_hello() { echo hello; }\n```\n",
            ]))
        try agents.start("qa")
        try agents.start(
            "harness",
            model: .replay([
                #"{"verdict": "reject", "reasons": ["rename the function"]}"#,
                #"{"verdict": "approve", "reasons": ["good name"]}"#,
            ]))
        try agents.start("merge")
        try agents.waitForWorkers(["dev": 1, "qa": 1, "harness": 1, "merge": 1])

        let run = try agents.ralph(["run", "--task", taskId], timeout: 120)
        let out = run.stdout
        #expect(run.status == 0, "\(out)\n\(run.stderr)\n\(agents.logs())")
        #expect(out.contains("[\(taskId)] iteration 1: harness REJECTED: rename the function"), "\(out)")
        #expect(out.contains("[\(taskId)] iteration 2: harness approved: good name"), "\(out)")
        #expect(out.contains("all 1 tasks done"), "\(out)")

        let task = try agents.call("task:get", ["taskId": .string(taskId)])
        #expect(task["state"] == "done")
        #expect(task["iteration"] == 2)
        let iterations = task["iterations"]?.arrayValue ?? []
        #expect(iterations.compactMap { $0["passed"]?.boolValue } == [true, true])
        #expect(task["sessions"]?["done"] == .array([.string("\(taskId)-merge")]))
        // The reasons reached Dev's checkpoint as blockers, cleared once the next iteration passed.
        let devSession = "\(taskId)-dev"
        let history = try agents.checkpointHistory(devSession)
        #expect(
            history.contains { version in
                version["blockers"] == ["review of iteration 1: rename the function"]
            }, "\(history.map { JSON.object($0).serializedString })")
        #expect(try agents.checkpoint(devSession)["blockers"] == [])
        #expect(try repo.show("feature/rev", "greet.sh") == "say_hello() { echo hello; }\n")
        #expect(try repo.git("log", "feature/rev", "--format=%s").contains("Merge task/\(taskId)"))
    }

    @Test("--max-iterations: a check that never passes fails the task after that many iterations, exit 1")
    func maxIterations() throws {
        let agents = try AgentProcesses()
        defer { agents.stopAll() }
        let repo = try ScratchRepo(files: ["never.sh": "echo still failing\nexit 1\n"])
        let taskId = "t-max"
        try agents.createTask(taskId, feature: "max", title: "An impossible task", checks: ["sh never.sh"], repo: repo)
        try agents.start(
            "dev",
            model: .replay([
                "Try one.\n\nFILE: attempt.txt\n```\none\n```\n",
                "Try two.\n\nFILE: attempt.txt\n```\ntwo\n```\n",
            ]))
        try agents.start("qa")
        try agents.waitForWorkers(["dev": 1, "qa": 1])

        let run = try agents.ralph(["run", "--task", taskId, "--max-iterations", "2"], timeout: 120)
        let out = run.stdout
        #expect(run.status == 1, "\(out)\n\(run.stderr)\n\(agents.logs())")
        #expect(out.contains("[\(taskId)] iteration 1: qa 0/1 checks pass; failing: sh never.sh"), "\(out)")
        #expect(out.contains("[\(taskId)] iteration 2: qa 0/1 checks pass; failing: sh never.sh"), "\(out)")
        #expect(out.contains("[\(taskId)] FAILED: checks still failing after 2 iterations"), "\(out)")
        #expect(out.contains("a task failed"), "\(out)")
        #expect(!out.contains("iteration 3"), "\(out)")

        let task = try agents.call("task:get", ["taskId": .string(taskId)])
        #expect(task["state"] == "failed")
        #expect(task["failureReason"]?.stringValue?.contains("after 2 iterations") == true)
        #expect(task["iteration"] == 2)
        let iterations = task["iterations"]?.arrayValue ?? []
        #expect(iterations.compactMap { $0["passed"]?.boolValue } == [false, false])
        // Dev's checkpoint still says what to fix, with the end of the check's output.
        let pending = try agents.checkpoint("\(taskId)-dev")["pending"]?.arrayValue ?? []
        #expect(
            pending.contains {
                $0.stringValue?.hasPrefix("make check sh never.sh pass (iteration 2 failed with exit 1") == true
                    && $0.stringValue?.contains("still failing") == true
            }, "\(pending)")
        let commits = try repo.git("log", "feature/max..task/\(taskId)", "--format=%s")
        #expect(commits == "t-max: iteration 2\nt-max: iteration 1")
        #expect(try repo.git("rev-parse", "feature/max") == repo.git("rev-parse", "main"), "nothing was merged")
    }
}
