import ArgumentParser
import BrokerProtocol

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "List and show tasks of the Ralph Loop.",
        subcommands: [TaskList.self, TaskShow.self])
}

struct TaskList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List tasks in creation order.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this feature's tasks.") var feature: String?
    @Option(help: "Only tasks in this state (planning, in_dev, in_qa, in_review, done, failed).") var state: String?

    func run() throws {
        var params = JSONObject()
        if let feature { params["featureId"] = .string(feature) }
        if let state { params["state"] = .string(state) }
        let tasks = try global.call("task:list", params)["tasks"] ?? .array([])
        global.output(tasks) {
            print(
                Pretty.table(
                    ["TASK", "FEATURE", "STATE", "ITERATION", "TITLE", "FAILURE"],
                    (tasks.arrayValue ?? []).map { task in
                        ["taskId", "featureId", "state", "iteration", "title", "failureReason"].map {
                            Pretty.cell(task[$0])
                        }
                    }))
        }
    }
}

struct TaskShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one task with its sessions and each iteration's check results.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The task id.") var taskId: String

    func run() throws {
        let task = try global.call("task:get", ["taskId": .string(taskId)])
        global.output(task) {
            var fields = task.objectValue ?? JSONObject()
            let iterations = fields["iterations"]?.arrayValue ?? []
            fields["iterations"] = nil
            print(Pretty.fields(fields))
            for iteration in iterations {
                let checks = (iteration["results"]?["checks"]?.arrayValue ?? []).map { check in
                    "\(Pretty.cell(check["name"])) \(check["passed"]?.boolValue == true ? "pass" : "FAIL")"
                }
                print(
                    "iteration \(Pretty.cell(iteration["iteration"])): "
                        + (iteration["passed"]?.boolValue == true ? "passed" : "failed")
                        + (checks.isEmpty ? "" : " (\(checks.joined(separator: ", ")))"))
            }
        }
    }
}

struct JobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job", abstract: "Submit, list, show and cancel agent jobs.",
        subcommands: [JobList.self, JobShow.self, JobSubmit.self, JobCancel.self])
}

struct JobList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List jobs, newest first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only jobs for this service.") var service: String?
    @Option(help: "Only jobs in this state (queued, running, completed, failed, cancelled).") var state: String?
    @Option(help: "At most this many jobs.") var limit: Int = 100

    func run() throws {
        var params = JSONObject([("limit", .int(Int64(limit)))])
        if let service { params["service"] = .string(service) }
        if let state { params["state"] = .string(state) }
        let jobs = try global.call("job:list", params)["jobs"] ?? .array([])
        global.output(jobs) {
            print(
                Pretty.table(
                    ["JOB", "SERVICE", "STATE", "ATTEMPTS", "WORKER", "CREATED", "ERROR"],
                    (jobs.arrayValue ?? []).map { job in
                        ["jobId", "service", "state", "attempts", "worker", "createdAt", "error"].map {
                            Pretty.cell(job[$0])
                        }
                    }))
        }
    }
}

struct JobShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one job with its result.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var jobId: String

    func run() throws {
        let job = try global.call("job:get", ["jobId": .string(jobId)])
        global.output(job) { print(Pretty.json(job)) }
    }
}

struct JobSubmit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Queue a job for a service; with --wait, wait for its result.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The service (pm, dev, qa, harness, merge, or any other).") var service: String
    @Argument(help: "The payload, as JSON.") var payload: String = "null"
    @Option(help: "The job's id (a retry with the same id returns the same job).") var jobId: String?
    @Option(help: "Milliseconds the job may take from now.") var timeoutMs: Int64?
    @Flag(help: "Wait until the job ends and print it.") var wait = false

    func run() throws {
        guard let parsed = try? JSONParser.parse(payload) else { throw UsageError("the payload is not valid JSON") }
        var params = JSONObject([("service", .string(service)), ("payload", parsed)])
        if let jobId { params["jobId"] = .string(jobId) }
        if let timeoutMs { params["timeoutMs"] = .int(timeoutMs) }
        var job = try global.call("job:submit", params)
        while wait && job["done"]?.boolValue != true
            && !["completed", "failed", "cancelled"].contains(job["state"]?.stringValue ?? "")
        {
            job = try global.call(
                "job:wait", ["jobId": job["jobId"] ?? .null, "timeoutMs": .int(20_000)], atLeastSeconds: 30)
        }
        global.output(job) { print(wait ? Pretty.json(job) : Pretty.cell(job["jobId"])) }
        if wait && job["state"]?.stringValue != "completed" { throw ExitCode(1) }
    }
}

struct JobCancel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a queued or running job.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var jobId: String

    func run() throws {
        let job = try global.call("job:cancel", ["jobId": .string(jobId)])
        global.output(job) { print("\(jobId) cancelled") }
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "The agent workers attached now.", subcommands: [WorkerList.self])
}

struct WorkerList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List attached workers and, per service, idle workers and queued jobs.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let list = try global.call("worker:list")
        global.output(list) {
            print(
                Pretty.table(
                    ["WORKER", "NAME", "SERVICE", "STATE", "JOB", "ATTACHED"],
                    (list["workers"]?.arrayValue ?? []).map { worker in
                        ["workerId", "name", "service", "state", "jobId", "attachedAt"].map { Pretty.cell(worker[$0]) }
                    }))
            print()
            print(
                Pretty.table(
                    ["SERVICE", "WORKERS", "IDLE", "QUEUED"],
                    (list["services"]?.arrayValue ?? []).map { service in
                        ["service", "workers", "idle", "queued"].map { Pretty.cell(service[$0]) }
                    }))
        }
    }
}
