import BrokerProtocol
import SessionCore
import ZeroMQ

extension APILoop {
    /// Validates one message from a client, authorizes it by the key that sent it (`userID`, when the
    /// broker has keys) and routes it; every path ends in exactly one reply.
    func handle(_ frames: [ZMQFrame], userID: String? = nil) {
        let (envelope, body) = RequestFrames.split(frames)
        guard body.count == 1 || body.count == 2 else {
            let problem =
                body.isEmpty ? "the message has no request frame" : "expected 1 request frame, got \(body.count)"
            return send(.error(envelope, id: .null, RPCError(.invalidRequest, problem)))
        }
        let limit = shared.configuration.maxRequestBytes
        if let frame = body.first(where: { $0.count > limit }) {
            return send(
                .error(
                    envelope, id: .null,
                    RPCError(
                        .tooLarge, "request is \(frame.count) bytes; the limit is \(limit)",
                        details: JSONObject([("limit", .int(limit))]))))
        }
        let parsed = RPCRequest.parse(frame: body[0])
        let data = body.count == 2 ? body[1] : nil
        if data != nil {
            // Only a well-formed request to a method that takes one may bring a data frame.
            guard case .success(let request) = parsed, Routes.takeDataFrame.contains(request.method) else {
                let takers = Routes.takeDataFrame.sorted().joined(separator: ", ")
                return send(
                    .error(
                        envelope, id: .null,
                        RPCError(
                            .invalidRequest, "expected 1 request frame, got 2 (only \(takers) takes a data frame)")))
            }
        }
        let request: RPCRequest
        switch parsed {
        case .success(let parsedRequest): request = parsedRequest
        case .failure(let rejected): return send(.error(envelope, id: rejected.id, rejected.error))
        }
        guard let route = Routes.table[request.method] else {
            return send(
                .error(
                    envelope, id: request.id,
                    RPCError(
                        .methodNotFound, "unknown method '\(request.method)'",
                        details: JSONObject([("method", .string(request.method))]))))
        }
        if let refusal = authorize(request.method, userID: userID) {
            return send(.error(envelope, id: request.id, refusal))
        }
        dispatch(route, request, envelope, data: data)
    }

    /// nil when the key behind `userID` may call `method` (or the broker has no keys); else the refusal,
    /// which is also reported as `auth:denied`.
    private func authorize(_ method: String, userID: String?) -> RPCError? {
        guard let security = shared.security else { return nil }
        guard let client = security.keyring.identity(userID: userID) else {
            let key = Keyring.shortName(userID: userID)
            shared.deny(.init(endpoint: "api", key: key, method: method, reason: "key no longer authorized"))
            return RPCError(
                .unauthorized, "this key is no longer authorized (removed from the broker's clients directory)",
                details: JSONObject([("method", .string(method))]))
        }
        guard client.role.allows(method) else {
            let role = client.role.rawValue
            shared.deny(.init(endpoint: "api", key: client.label, method: method, reason: "not allowed for role '\(role)'"))
            return RPCError(
                .unauthorized, "'\(method)' is not allowed for role '\(role)'",
                details: JSONObject([("method", .string(method)), ("role", .string(role))]))
        }
        return nil
    }

    private func dispatch(_ route: Route, _ request: RPCRequest, _ envelope: Envelope, data: [UInt8]?) {
        switch route {
        case .inline:
            inline(request, envelope)
        case .read(let run):
            let params = request.params
            submitRead(
                ReadJob(envelope: envelope, id: request.id) { reader throws(RPCError) in
                    try run(reader, params)
                })
        case .write(let validate):
            do throws(RPCError) {
                let command = try validate(request.params, shared)
                if shared.writeQueue.push(WriteJob(envelope: envelope, id: request.id, command: command)) {
                    inFlight += 1
                    writesSubmitted += 1
                } else {
                    send(.error(envelope, id: request.id, RPCError(.unavailable, "the broker is shutting down")))
                }
            } catch {
                send(.error(envelope, id: request.id, error))
            }
        case .compaction(let dryRun):
            submitCompaction(request, envelope, dryRun: dryRun)
        case .dispatcher:
            submitToDispatcher(request, envelope)
        case .transfer(let run):
            let call = TransferCall(
                params: request.params, shared: shared, envelope: envelope, id: request.id, data: data)
            submitRead(ReadJob(envelope: envelope, id: request.id) { _ throws(RPCError) in try run(call) })
        }
    }

    /// Hands `job:wait` or `worker:list` to the dispatcher thread, which answers later; like a read, it waits
    /// for the writes received before it (a pipelined `job:submit` must be known to the dispatcher first).
    private func submitToDispatcher(_ request: RPCRequest, _ envelope: Envelope) {
        let client = ClientReply(envelope: envelope, id: request.id)
        let message: DispatchMessage
        do throws(RPCError) {
            let params = request.params
            if request.method == "job:wait" {
                try params.requireOnly(["jobId", "timeoutMs"])
                message = .wait(
                    jobId: try params.identifier("jobId"),
                    timeoutMs: try params.optionalInt("timeoutMs", range: 0...60_000) ?? 30_000, client: client)
            } else {
                try params.requireOnly([])
                message = .listWorkers(client)
            }
        } catch {
            return send(.error(envelope, id: request.id, error))
        }
        inFlight += 1
        if writesAnswered < writesSubmitted {
            heldDispatches.append((writesSubmitted, message, client))
        } else if !shared.dispatch.post(message) {
            inFlight -= 1
            send(.error(envelope, id: request.id, RPCError(.unavailable, "the broker is shutting down")))
        }
    }

    /// Hands `session:compact` or `session:previewCompaction` to the compaction thread, which answers later.
    private func submitCompaction(_ request: RPCRequest, _ envelope: Envelope, dryRun: Bool) {
        let job: CompactionJob
        do throws(RPCError) {
            let params = request.params
            try params.requireOnly(
                dryRun ? ["sessionId", "instructions"] : ["sessionId", "instructions", "requestId"])
            let sessionId = try params.identifier("sessionId")
            let instructions = try params.optionalString("instructions", maxBytes: 64 * 1024)
            job = CompactionJob(
                sessionId: sessionId,
                kind: dryRun ? .dryRun(instructions: instructions) : .manual(instructions: instructions),
                client: ClientReply(envelope: envelope, id: request.id), requestId: try params.clientId("requestId"))
        } catch {
            return send(.error(envelope, id: request.id, error))
        }
        guard shared.compactions.submit(job) else {
            let problem =
                shared.stopRequested.current != nil
                ? RPCError(.unavailable, "the broker is shutting down")
                : RPCError(
                    .conflict, "a compaction of session '\(job.sessionId)' is already queued or running",
                    details: JSONObject([("sessionId", .string(job.sessionId))]))
            return send(.error(envelope, id: request.id, problem))
        }
        inFlight += 1
    }

    /// Sends a read to the reader threads, or holds it until the writes received before it are answered.
    func submitRead(_ job: ReadJob) {
        inFlight += 1
        if writesAnswered < writesSubmitted {
            heldReads.append((writesSubmitted, job))
        } else if !shared.readQueue.push(job) {
            inFlight -= 1
            send(.error(job.envelope, id: job.id, RPCError(.unavailable, "the broker is shutting down")))
        }
    }

    private func inline(_ request: RPCRequest, _ envelope: Envelope) {
        switch request.method {
        case "broker:ping":
            do throws(RPCError) {
                try request.params.requireOnly([])
                send(
                    .result(
                        envelope, id: request.id,
                        JSON.object(
                            JSONObject([
                                ("version", .string(BrokerVersion.version)),
                                ("protocolVersion", .int(BrokerVersion.protocolVersion)),
                                ("uptimeMs", .int(Timestamp.monotonicMillis() - shared.startedAt)),
                            ])
                        ).serialized))
            } catch {
                send(.error(envelope, id: request.id, error))
            }
        default:  // broker:stats: the counters of this thread, then the database's figures from a reader
            do throws(RPCError) { try request.params.requireOnly([]) } catch {
                return send(.error(envelope, id: request.id, error))
            }
            var counters = self.counters.json
            counters["uptimeMs"] = .int(Timestamp.monotonicMillis() - shared.startedAt)
            counters["commits"] = .int(shared.commits.load(ordering: .relaxed))
            counters["writesCommitted"] = .int(shared.committedWrites.load(ordering: .relaxed))
            let frozen = counters
            let database = shared.database
            let job = ReadJob(envelope: envelope, id: request.id) { reader throws(RPCError) in
                var stats = try reader.storeStats()
                for (key, value) in frozen { stats[key] = value }
                stats["databaseBytes"] = .int(database.sizeOnDisk())
                return JSON.object(stats).serialized
            }
            submitRead(job)
        }
    }
}
