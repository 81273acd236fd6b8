import BrokerProtocol
import SessionCore
import ZeroMQ

extension Dispatcher {
    /// At start: queued jobs wait again; running ones lost their worker with the old broker.
    func restore(_ unfinished: [JobRecord], reason: String = "broker restart") {
        for var record in unfinished {
            if record.state == .running {
                let attempt = record.attempts
                guard attempt < record.maxAttempts else {
                    jobs[record.id] = LiveJob(record: record, finishing: true)
                    transition(
                        record, expected: .running,
                        .failed(
                            error: "\(reason == "broker restart" ? "the broker restarted" : "the job was \(reason)") "
                                + "during attempt \(attempt) of \(record.maxAttempts)"))
                    continue
                }
                write(
                    JobTransition(
                        jobId: record.id, expected: .running, attempt: attempt,
                        change: .requeued(reason: reason)))
                record.state = .queued
                record.worker = nil
            }
            enqueue(record, atFront: false)
        }
        if !unfinished.isEmpty { logger.notice("dispatcher: \(unfinished.count) unfinished jobs queued again") }
    }

    func enqueue(_ record: JobRecord, atFront: Bool) {
        jobs[record.id] = LiveJob(record: record)
        if atFront {
            queues[record.service, default: []].insert(record.id, at: 0)
        } else {
            queues[record.service, default: []].append(record.id)
        }
    }

    /// Hands queued jobs to idle workers, least recently used first.
    func dispatchQueued() {
        for service in Array(queues.keys) where registry.hasIdle(service) {
            while registry.hasIdle(service), var queue = queues[service], !queue.isEmpty {
                let jobId = queue.removeFirst()
                queues[service] = queue
                guard var live = jobs[jobId], live.record.state == .queued, !live.finishing,
                    let worker = registry.takeIdle(service: service, for: jobId)
                else { continue }
                let previousAttempts = live.record.attempts
                live.record.state = .running
                live.record.attempts += 1
                live.record.worker = worker.id
                live.record.startedAt = Timestamp.now()
                jobs[jobId] = live
                let record = live.record
                let body = JSONObject([
                    ("jobId", .string(jobId)), ("service", .string(service)), ("payload", record.payload),
                    ("attempt", .int(record.attempts)), ("maxAttempts", .int(record.maxAttempts)),
                    ("timeoutMs", .int(record.timeoutMs)),
                    ("deadlineAt", .string(Timestamp.iso8601(record.deadlineAt))),
                ])
                // The REQUEST goes out once the start is committed, so `job:get` says running while a
                // worker holds the job.
                let inbox = shared.dispatch
                let identity = worker.identity
                let request = JSON.object(body).serialized
                _ = shared.writeQueue.push(
                    WriteJob(
                        envelope: [], id: .null,
                        command: .jobTransition(
                            JobTransition(
                                jobId: jobId, expected: .queued, attempt: previousAttempts,
                                change: .started(worker: worker.id)))
                    ) { outcome in
                        inbox.post(.started(jobId: jobId, worker: identity, request: request, stored: outcome))
                    })
            }
            if queues[service]?.isEmpty ?? false { queues[service] = nil }
        }
    }

    /// A start was committed (or refused): the worker gets its REQUEST, or goes back to idle.
    func started(_ jobId: String, worker identity: ZMQFrame, request: [UInt8], stored: Result<[UInt8], RPCError>) {
        let holds = registry[identity]?.jobId == jobId
        let live = jobs[jobId].map { $0.record.state == .running && $0.record.worker == WorkerEntry.id(for: identity) }
        if case .success = stored, holds, live == true {
            return send(identity, .request, [Array(jobId.utf8), [], request])
        }
        // Cancelled meanwhile (the cancel won the writer), or the write failed: the job is not the worker's.
        if holds { registry.release(identity) }
        if case .failure = stored, live == true, var job = jobs[jobId] {
            job.record.state = .queued
            job.record.attempts -= 1
            job.record.worker = nil
            jobs[jobId] = job
            queues[job.record.service, default: []].insert(jobId, at: 0)
        }
        dispatchQueued()
    }

    /// A worker's REPLY: the job completes (`ok`) or fails with the worker's error.
    func complete(_ jobId: String, ok: Bool, reply: JSONObject) {
        // A job cancelled or timed out meanwhile is no longer live: its late result is dropped.
        guard let live = jobs[jobId], live.record.state == .running, !live.finishing else { return }
        if ok {
            transition(live.record, expected: .running, .completed(result: reply["result"] ?? .null))
        } else {
            let error = reply["error"]?.stringValue ?? reply["error"].map { $0.serializedString } ?? "the worker failed"
            transition(live.record, expected: .running, .failed(error: error))
        }
    }

    /// The worker holding `jobId` is gone: the job waits for another, unless it has used every attempt.
    func workerLost(_ jobId: String, worker: WorkerEntry) {
        guard var live = jobs[jobId], live.record.state == .running, !live.finishing,
            live.record.worker == worker.id
        else { return }
        let attempt = live.record.attempts
        if attempt >= live.record.maxAttempts {
            transition(
                live.record, expected: .running,
                .failed(error: "worker \(worker.id) was lost during attempt \(attempt) of \(live.record.maxAttempts)"))
            return
        }
        write(
            JobTransition(jobId: jobId, expected: .running, attempt: attempt, change: .requeued(reason: "worker lost")))
        live.record.state = .queued
        live.record.worker = nil
        jobs[jobId] = live
        // It has waited longest: first in line for the next worker.
        queues[live.record.service, default: []].insert(jobId, at: 0)
        dispatchQueued()
    }

    /// Sends a final transition to the writer; the job leaves memory when it is committed.
    func transition(_ record: JobRecord, expected: JobState, _ change: JobTransition.Change) {
        jobs[record.id]?.finishing = true
        let inbox = shared.dispatch
        let jobId = record.id
        let command = WriteCommand.jobTransition(
            JobTransition(jobId: jobId, expected: expected, attempt: record.attempts, change: change))
        let accepted = shared.writeQueue.push(
            WriteJob(envelope: [], id: .null, command: command) { outcome in
                inbox.post(.finished(jobId: jobId, outcome: outcome))
            })
        if !accepted { jobs[record.id]?.finishing = false }  // shutting down: the next start settles it
    }

    /// A state change whose outcome needs no follow-up (started, re-queued).
    func write(_ transition: JobTransition) {
        let logger = self.logger
        _ = shared.writeQueue.push(
            WriteJob(envelope: [], id: .null, command: .jobTransition(transition)) { outcome in
                if case .failure(let error) = outcome {
                    logger.debug("dispatcher: job \(transition.jobId) transition not stored: \(error.message)")
                }
            })
    }

    /// A final transition was committed (or refused because a cancel won): waiters get the stored job.
    func finished(_ jobId: String, _ outcome: Result<[UInt8], RPCError>) {
        guard jobs.removeValue(forKey: jobId) != nil else { return }
        removeFromQueue(jobId)
        let list = waiters.removeValue(forKey: jobId) ?? []
        switch outcome {
        case .success(let stored):
            let body = Self.waitResult(stored, done: true)
            for waiter in list { reply(waiter.client, body) }
        case .failure:
            for waiter in list { answer(waiter.client, jobId: jobId) }
        }
    }

    /// A cancelled job leaves the queue and memory; its worker, if any, stays busy until it replies.
    func forget(_ jobId: String, answeringWith record: JobRecord) {
        jobs.removeValue(forKey: jobId)
        removeFromQueue(jobId)
        let body = Self.waitResult(JSON.object(record.json()).serialized, done: true)
        for waiter in waiters.removeValue(forKey: jobId) ?? [] { reply(waiter.client, body) }
    }

    private func removeFromQueue(_ jobId: String) {
        for (service, queue) in queues where queue.contains(jobId) { queues[service] = queue.filter { $0 != jobId } }
    }

    /// Jobs past their deadline fail, queued or running.
    func expireJobs() {
        let now = Timestamp.now()
        for (jobId, live) in jobs where !live.finishing && live.record.deadlineAt <= now {
            let record = live.record
            let error =
                record.state == .queued
                ? "timed out after \(record.timeoutMs) ms waiting for a '\(record.service)' worker"
                : "no reply from worker \(record.worker ?? "?") within \(record.timeoutMs) ms"
            removeFromQueue(jobId)
            transition(record, expected: record.state, .failed(error: error))
        }
    }

    func addWaiter(_ jobId: String, timeoutMs: Int64, client: ClientReply) {
        guard jobs[jobId] != nil else {
            // Not live: finished (or unknown), so the database has the answer.
            return answer(client, jobId: jobId)
        }
        waiters[jobId, default: []].append(Waiter(client: client, deadline: Timestamp.monotonicMillis() + timeoutMs))
    }

    func expireWaiters(now: Int64) {
        for (jobId, list) in waiters {
            let (due, waiting) = (list.filter { $0.deadline <= now }, list.filter { $0.deadline > now })
            guard !due.isEmpty else { continue }
            waiters[jobId] = waiting.isEmpty ? nil : waiting
            for waiter in due { answer(waiter.client, jobId: jobId) }
        }
    }

    /// Answers a wait with the job as it stands: from memory while live, else from the database.
    func answer(_ client: ClientReply, jobId: String) {
        if let live = jobs[jobId] {
            return reply(client, Self.waitResult(JSON.object(live.record.json()).serialized, done: false))
        }
        let job = ReadJob(envelope: client.envelope, id: client.id) { reader throws(RPCError) in
            let record = try reader.job(jobId)
            return Self.waitResult(JSON.object(record.json()).serialized, done: record.state.isFinal)
        }
        if !shared.readQueue.push(job) {
            shared.outbox.post(
                .error(client.envelope, id: client.id, RPCError(.unavailable, "the broker is shutting down")))
        }
    }

    /// A job's JSON with `done` added.
    static func waitResult(_ job: [UInt8], done: Bool) -> [UInt8] {
        guard var object = (try? JSONParser.parse(job))?.objectValue else { return job }
        object["done"] = .bool(done)
        return JSON.object(object).serialized
    }
}
