import BrokerProtocol
import SQLite

extension SessionWriter {
    /// `job:submit`: stores a queued job; a known `jobId` returns the job it names (a retried submit).
    func submitJob(_ submit: SubmitJob) throws(CommandError) -> [UInt8] {
        let id = submit.jobId ?? Identifier.make("job")
        if let existing = try loadJob(id) {
            guard existing.service == submit.service else {
                throw .rpc(
                    RPCError(
                        .conflict, "job '\(id)' already exists for service '\(existing.service)'",
                        details: JSONObject([("jobId", .string(id))])))
            }
            return Self.jobReply(existing, ("created", .bool(false)))
        }
        let job = JobRecord(
            id: id, service: submit.service, payload: submit.payload, maxAttempts: submit.maxAttempts,
            timeoutMs: submit.timeoutMs, createdAt: now)
        try saveJob(job)
        try emit(
            Topic.jobQueued,
            JSONObject([
                ("jobId", .string(id)), ("service", .string(job.service)), ("attempt", .int(1)),
                ("reason", .string("submitted")),
            ]))
        jobNotices.append(.queued(job))
        return Self.jobReply(job, ("created", .bool(true)))
    }

    /// `job:cancel`: a queued or running job ends as cancelled; a finished one is a conflict.
    func cancelJob(_ cancel: CancelJob) throws(CommandError) -> [UInt8] {
        guard var job = try loadJob(cancel.jobId) else { throw .rpc(.notFound("job", cancel.jobId)) }
        guard !job.state.isFinal else {
            throw .rpc(
                RPCError(
                    .conflict, "job '\(job.id)' is already \(job.state.rawValue)",
                    details: JSONObject([("jobId", .string(job.id)), ("state", .string(job.state.rawValue))])))
        }
        job.state = .cancelled
        job.finishedAt = now
        try saveJob(job)
        try emit(Topic.jobCancelled, JSONObject([("jobId", .string(job.id)), ("service", .string(job.service))]))
        jobNotices.append(.cancelled(job))
        return Self.jobReply(job)
    }

    /// The dispatcher's state changes, applied only if the job is still where the dispatcher saw it.
    func applyJobTransition(_ transition: JobTransition) throws(CommandError) -> [UInt8] {
        guard var job = try loadJob(transition.jobId) else { throw .rpc(.notFound("job", transition.jobId)) }
        guard job.state == transition.expected, job.attempts == transition.attempt else {
            throw .rpc(
                RPCError(
                    .conflict,
                    "job '\(job.id)' is \(job.state.rawValue) (attempt \(job.attempts)), "
                        + "not \(transition.expected.rawValue) (attempt \(transition.attempt))"))
        }
        var fields = JSONObject([("jobId", .string(job.id)), ("service", .string(job.service))])
        let topic: String
        switch transition.change {
        case .started(let worker):
            job.state = .running
            job.attempts += 1
            job.worker = worker
            job.startedAt = now
            topic = Topic.jobStarted
            fields["worker"] = .string(worker)
            fields["attempt"] = .int(job.attempts)
        case .requeued(let reason):
            job.state = .queued
            job.worker = nil
            topic = Topic.jobQueued
            fields["attempt"] = .int(job.attempts + 1)
            fields["reason"] = .string(reason)
        case .completed(let result):
            job.state = .completed
            job.result = result
            job.finishedAt = now
            topic = Topic.jobCompleted
            fields["worker"] = job.worker.map(JSON.string) ?? .null
            fields["attempt"] = .int(job.attempts)
            fields["durationMs"] = .int(max(0, now - (job.startedAt ?? now)))
        case .failed(let error):
            job.state = .failed
            job.error = error
            job.finishedAt = now
            topic = Topic.jobFailed
            fields["attempt"] = .int(job.attempts)
            fields["error"] = .string(error)
        }
        try saveJob(job)
        try emit(topic, fields)
        return Self.jobReply(job)
    }

    /// Jobs the dispatcher must learn about from the last committed batch.
    public func takeJobNotices() -> [JobNotice] {
        defer { jobNotices.removeAll(keepingCapacity: true) }
        return jobNotices
    }

    private func loadJob(_ id: String) throws(CommandError) -> JobRecord? {
        do { return try JobRows.load(db, id: id) } catch { throw .sqlite(error) }
    }

    private func saveJob(_ job: JobRecord) throws(CommandError) {
        do { try JobRows.save(db, job) } catch { throw .sqlite(error) }
    }

    static func jobReply(_ job: JobRecord, _ extra: (String, JSON)? = nil) -> [UInt8] {
        var object = job.json()
        if let extra { object[extra.0] = extra.1 }
        return JSON.object(object).serialized
    }
}
