import BrokerProtocol

/// Submits a job under a deterministic id and waits for it, so a restarted ralph finds the job it started.
public struct JobRunner {
    public let link: BrokerLink
    /// A job's whole time-out, from submission.
    public var jobTimeoutMs: Int64
    public let print: (String) -> Void

    public init(link: BrokerLink, jobTimeoutMs: Int64, print: @escaping (String) -> Void) {
        self.link = link
        self.jobTimeoutMs = jobTimeoutMs
        self.print = print
    }

    /// The finished job: its result when it completed, or an error with the job's own reason.
    public func run(jobId: String, service: String, payload: JSONObject) throws(AgentError) -> JSONObject {
        var job = try link.call(
            "job:submit",
            JSONObject([
                ("jobId", .string(jobId)), ("service", .string(service)), ("payload", .object(payload)),
                ("timeoutMs", .int(jobTimeoutMs)),
            ]))
        var toldQueued = false
        while !Self.isFinal(job.text("state")) {
            job = try link.call(
                "job:wait", JSONObject([("jobId", .string(jobId)), ("timeoutMs", .int(20_000))]), timeoutMs: 30_000)
            if job.text("state") == "queued" && !toldQueued {
                print("  … \(jobId) is waiting for a '\(service)' worker")
                toldQueued = true
            }
        }
        switch job.text("state") {
        case "completed": return job["result"]?.objectValue ?? JSONObject()
        default:
            throw AgentError("\(service) job \(jobId) \(job.text("state")): \(job.text("error"))")
        }
    }

    static func isFinal(_ state: String) -> Bool { ["completed", "failed", "cancelled"].contains(state) }
}
