import BrokerProtocol

/// `job:submit`: queue a job for a service.
public struct SubmitJob: Sendable {
    public var jobId: String?
    public var service: String
    public var payload: JSON
    public var timeoutMs: Int64
    public var maxAttempts: Int64

    public static let timeoutRange: ClosedRange<Int64> = 1_000...86_400_000
    public static let attemptsRange: ClosedRange<Int64> = 1...10

    public init(params: Params, defaultTimeoutMs: Int64, defaultMaxAttempts: Int64) throws(RPCError) {
        try params.requireOnly(["service", "payload", "timeoutMs", "maxAttempts", "jobId"])
        jobId = try params.clientId("jobId")
        service = try params.identifier("service")
        payload = params["payload"] ?? .null
        timeoutMs = try params.optionalInt("timeoutMs", range: Self.timeoutRange) ?? defaultTimeoutMs
        maxAttempts = try params.optionalInt("maxAttempts", range: Self.attemptsRange) ?? defaultMaxAttempts
    }
}

/// `job:cancel`.
public struct CancelJob: Sendable {
    public var jobId: String

    public init(params: Params) throws(RPCError) {
        try params.requireOnly(["jobId"])
        jobId = try params.identifier("jobId")
    }
}

/// The dispatcher's record of a job changing state (internal; no client sends it).
///
/// The writer applies it only while the job is still in `expected` state (and,
/// for a running job, on the same attempt), so a cancel or a time-out that
/// committed first wins over a late worker reply.
public struct JobTransition: Sendable {
    public enum Change: Sendable {
        /// Handed to `worker` as attempt `attempts + 1`.
        case started(worker: String)
        /// Back on the queue (`reason`: "worker lost" or "broker restart").
        case requeued(reason: String)
        case completed(result: JSON)
        case failed(error: String)
    }

    public var jobId: String
    public var expected: JobState
    public var attempt: Int64
    public var change: Change

    public init(jobId: String, expected: JobState, attempt: Int64, change: Change) {
        self.jobId = jobId
        self.expected = expected
        self.attempt = attempt
        self.change = change
    }
}

/// What the dispatcher must learn after a commit: jobs it does not know yet, and jobs cancelled by a client.
public enum JobNotice: Sendable {
    case queued(JobRecord)
    case cancelled(JobRecord)
}

/// The topics of jobs and workers.
extension Topic {
    public static let jobQueued = "job:queued"
    public static let jobStarted = "job:started"
    public static let jobCompleted = "job:completed"
    public static let jobFailed = "job:failed"
    public static let jobCancelled = "job:cancelled"
    public static let workerAttached = "worker:attached"
    public static let workerDetached = "worker:detached"
    public static let taskCreated = "task:created"
    public static let taskUpdated = "task:updated"
    public static let taskIteration = "task:iteration"
}
