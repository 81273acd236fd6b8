import BrokerProtocol
import BrokerServer
import Foundation

/// A scratch git repository in a fresh temporary folder: branch `main`, a local identity, the given files committed.
struct ScratchRepo: Sendable {
    let path: String

    /// A repository holding `files` (relative path -> content) in its first commit.
    init(files: [String: String] = ["README.md": "# scratch\n"]) throws {
        path = TestBroker.makeDirectory() + "/repo"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (file, text) in files.sorted(by: { $0.key < $1.key }) { try write(file, text) }
        try initialize()
    }

    /// A repository holding a copy of the folder `source` in its first commit.
    init(copying source: String) throws {
        path = TestBroker.makeDirectory() + "/repo"
        try FileManager.default.copyItem(atPath: source, toPath: path)
        try initialize()
    }

    private func initialize() throws {
        try git("init", "-q", "-b", "main")
        try git("config", "user.name", "AgentBroker Tests")
        try git("config", "user.email", "tests@agentbroker.invalid")
        try git("config", "commit.gpgsign", "false")
        try commit("initial files")
    }

    /// Writes a file of the checkout (folders made as needed); nothing is staged.
    func write(_ file: String, _ text: String) throws {
        let target = path + "/" + file
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
    }

    /// Stages everything and commits it on the checked-out branch.
    func commit(_ message: String) throws {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
    }

    /// Makes `branch` from `base` with one commit writing `files`, then checks `main` out again.
    func commitOnBranch(_ branch: String, from base: String, files: [String: String], message: String) throws {
        try git("checkout", "-q", "-b", branch, base)
        for (file, text) in files.sorted(by: { $0.key < $1.key }) { try write(file, text) }
        try commit(message)
        try git("checkout", "-q", "main")
    }

    /// git in the repository; its standard output, trimmed. A non-zero exit throws with git's words.
    @discardableResult
    func git(_ arguments: String...) throws -> String { try git(arguments) }

    @discardableResult
    func git(_ arguments: [String]) throws -> String {
        try ScratchRepo.gitOutput(in: path, arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A file as stored in a commit or branch, byte for byte (`git show REV:FILE`).
    func show(_ revision: String, _ file: String) throws -> String {
        try ScratchRepo.gitOutput(in: path, ["show", "\(revision):\(file)"])
    }

    /// git run in `directory` (a worktree of this repository, say); its standard output, trimmed.
    func git(in directory: String, _ arguments: [String]) throws -> String {
        try ScratchRepo.gitOutput(in: directory, arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Where the agents keep their worktree called `name` (`<repo>/.git/agentbroker/worktrees/<name>`).
    func agentWorktree(_ name: String) -> String { path + "/.git/agentbroker/worktrees/" + name }

    private static func gitOutput(in directory: String, _ arguments: [String]) throws -> String {
        let run = try Processes.run("/usr/bin/env", ["git", "-C", directory] + arguments, timeout: 60)
        guard run.status == 0 else {
            let command = "git " + arguments.joined(separator: " ")
            throw TestFailure("\(command) in \(directory) exited \(run.status): \(run.stderr)\(run.stdout)")
        }
        return run.stdout
    }
}

/// A broker for agent tests, the agent processes started against it (all killed with SIGKILL by `stopAll`
/// or when released), and the broker calls agent tests make.
///
/// SIGKILL, because a process started from a test thread may inherit a signal mask that blocks SIGTERM.
final class AgentProcesses {
    /// Where an agent's model answers come from.
    enum Model {
        /// No provider (qa, merge).
        case noModel
        /// These answers, in order, written to a replay file (a JSON array of strings).
        case replay([String])
        /// An existing replay file.
        case replayFile(String)
        /// `--provider command --model-command LINE`.
        case command(String)
    }

    struct Started {
        let name: String
        let process: Process
        let logFile: String
    }

    /// Heartbeats every 200 ms on both sides; a peer silent for 10 of them (2 s) is lost. Generous, so a
    /// busy machine running tests side by side does not drop a working agent.
    static let heartbeatMs: Int64 = 200
    static let liveness: Int64 = 10

    let broker: TestBroker
    /// The test's temporary folder: the broker's database, replay files and agent logs.
    let directory: String
    private(set) var started: [Started] = []
    private var killed: Set<Int32> = []

    /// Certificates when the broker requires CURVE: the test's own calls use the `admin` key.
    let keys: TestKeys?

    init(keys: TestKeys? = nil) throws {
        self.keys = keys
        broker = try TestBroker(
            configure: { configuration in
                configuration.dispatch.heartbeatMs = AgentProcesses.heartbeatMs
                configuration.dispatch.liveness = AgentProcesses.liveness
                keys?.configure(&configuration)
            }, curve: try keys?.keys("admin"))
        directory = broker.directory
    }

    deinit { stopAll() }

    /// Starts `<role>-agent` against the broker; its standard error goes to `<directory>/<name>.log`.
    @discardableResult
    func start(_ role: String, model: Model = .noModel, name: String? = nil, key: String? = nil) throws -> Process {
        let name = name ?? "\(role)-\(started.count + 1)"
        var arguments = [
            "--api", broker.endpoints.api, "--workers", broker.endpoints.workers,
            "--heartbeat-ms", String(Self.heartbeatMs), "--liveness", String(Self.liveness), "--name", name,
        ]
        switch model {
        case .noModel:
            break
        case .replay(let answers):
            let file = directory + "/\(name)-answers.json"
            try JSON.strings(answers).serializedString.write(toFile: file, atomically: true, encoding: .utf8)
            arguments += ["--provider", "replay", "--replay-file", file]
        case .replayFile(let file):
            arguments += ["--provider", "replay", "--replay-file", file]
        case .command(let line):
            arguments += ["--provider", "command", "--model-command", line]
        }
        let logFile = directory + "/\(name).log"
        var environment: [String: String] = [:]
        if let key, let keys {
            // As an operator would deploy it: the agent's own secret file and the broker's public one.
            environment = ["BROKER_CURVE_KEY": keys.secretFile(key), "BROKER_CURVE_SERVER_KEY": keys.brokerPublicFile]
        }
        let process = try Processes.start("\(role)-agent", arguments, logFile: logFile, environment: environment)
        started.append(Started(name: name, process: process, logFile: logFile))
        return process
    }

    /// Kills one agent with SIGKILL and waits for it to end.
    func sigkill(_ process: Process) {
        killed.insert(process.processIdentifier)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = Processes.waitForExit(process, timeout: 10)
    }

    /// Kills every agent still running.
    func stopAll() {
        for agent in started where agent.process.isRunning { sigkill(agent.process) }
    }

    /// The end of every agent's log, for failure messages.
    func logs() -> String {
        started.map { agent in
            let text = (try? String(contentsOfFile: agent.logFile, encoding: .utf8)) ?? ""
            let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(30)
            return "--- \(agent.name) (\(agent.logFile))\n" + tail.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// A result (a job, say) with the agents' logs, for failure messages.
    func explain(_ object: JSONObject) -> String { JSON.object(object).serializedString + "\n" + logs() }

    /// Waits until `worker:list` shows at least the given number of workers per service. Fails early, with its
    /// log, when an agent that was not killed on purpose has exited (a bad flag, a missing replay file).
    func waitForWorkers(_ expected: [String: Int], timeout: Double = 30) throws {
        try waitUntil("workers attached for \(expected.keys.sorted())", timeout: timeout) {
            if let dead = started.first(where: {
                !$0.process.isRunning && !killed.contains($0.process.processIdentifier)
            }) {
                throw TestFailure("agent \(dead.name) exited with \(dead.process.terminationStatus)\n\(logs())")
            }
            let services = try call("worker:list")["services"]?.arrayValue ?? []
            return expected.allSatisfy { entry in
                let attached =
                    services.first { $0["service"]?.stringValue == entry.key }?["workers"]?.intValue ?? 0
                return attached >= Int64(entry.value)
            }
        }
    }

    /// Polls `condition` every 50 ms until it holds; throws (with the agents' logs) after `timeout` seconds.
    func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !(try condition()) {
            guard Date() < deadline else { throw TestFailure("\(what): not within \(timeout) s\n\(logs())") }
            usleep(50_000)
        }
    }

    /// Calls the broker; the result must be an object.
    @discardableResult
    func call(_ method: String, _ params: JSONObject = [:]) throws -> JSONObject {
        let result = try broker.call(method, params)
        guard let object = result.objectValue else {
            throw TestFailure("\(method) answered \(result.serializedString), not an object")
        }
        return object
    }

    /// `job:submit` under a client job id.
    @discardableResult
    func submit(
        _ service: String, _ payload: JSON, jobId: String, maxAttempts: Int64? = nil, timeoutMs: Int64 = 120_000
    ) throws -> JSONObject {
        var params: JSONObject = [
            "service": .string(service), "payload": payload, "jobId": .string(jobId), "timeoutMs": .int(timeoutMs),
        ]
        if let maxAttempts { params["maxAttempts"] = .int(maxAttempts) }
        return try call("job:submit", params)
    }

    /// `job:wait` (20 s at a time, on a client that waits 30 s for the reply) until the job is final.
    func waitForJob(_ jobId: String, patience: Double = 55) throws -> JSONObject {
        let client = broker.client(timeoutMs: 30_000)
        let deadline = Date().addingTimeInterval(patience)
        while true {
            let job = try client.call("job:wait", ["jobId": .string(jobId), "timeoutMs": 20_000])
            if job["done"] == true, let object = job.objectValue { return object }
            guard Date() < deadline else {
                throw TestFailure("job \(jobId) not done after \(patience) s: \(job.serializedString)\n\(logs())")
            }
        }
    }

    /// Submits a job and waits until it is final.
    func runJob(_ service: String, _ payload: JSON, jobId: String, maxAttempts: Int64? = nil) throws -> JSONObject {
        try submit(service, payload, jobId: jobId, maxAttempts: maxAttempts)
        return try waitForJob(jobId)
    }

    /// A task in `repo` with the usual workspace: base `feature/<feature>`, branch `task/<taskId>`.
    @discardableResult
    func createTask(
        _ taskId: String, feature: String, title: String, description: String = "", checks: JSON, repo: ScratchRepo
    ) throws -> JSONObject {
        let workspace: JSON = [
            "repo": .string(repo.path), "baseBranch": .string("feature/\(feature)"),
            "branch": .string("task/\(taskId)"),
        ]
        return try call(
            "task:create",
            [
                "taskId": .string(taskId), "featureId": .string(feature), "title": .string(title),
                "description": .string(description), "checks": checks, "workspace": workspace,
            ])
    }

    /// A session with a client id (what ralph makes for a task's agents).
    func createSession(_ sessionId: String, type: String, feature: String, task: String) throws {
        try call(
            "session:create",
            [
                "sessionId": .string(sessionId), "type": .string(type), "featureId": .string(feature),
                "taskId": .string(task),
            ])
    }

    /// A session's chat messages (the active ones, or all with `includeArchived`).
    func messages(_ sessionId: String, includeArchived: Bool = false) throws -> [JSONObject] {
        let page = try call(
            "session:getMessages", ["sessionId": .string(sessionId), "includeArchived": .bool(includeArchived)])
        return (page["messages"]?.arrayValue ?? []).compactMap(\.objectValue)
    }

    func checkpoint(_ sessionId: String) throws -> JSONObject {
        try call("session:getCheckpoint", ["sessionId": .string(sessionId)])
    }

    /// Every checkpoint version of a session, oldest first (version 1 to the current one).
    func checkpointHistory(_ sessionId: String) throws -> [JSONObject] {
        let current = try checkpoint(sessionId)
        let last = current["version"]?.intValue ?? 0
        guard last >= 1 else { return [] }
        return try (1...last).map { version in
            try call("session:getCheckpoint", ["sessionId": .string(sessionId), "version": .int(version)])
        }
    }

    /// Runs `ralph` against the broker's api endpoint.
    func ralph(_ arguments: [String], timeout: Double = 180) throws -> Processes.Output {
        try Processes.run("ralph", arguments + ["--api", broker.endpoints.api], timeout: timeout)
    }
}
