import BrokerProtocol
import SQLite

extension SessionWriter {
    /// Writes a validated import in a transaction of its own: all of it, or (on any problem) none of it.
    ///
    /// The caller runs it between two batches. It may take seconds for a large
    /// backup; writes that arrive meanwhile wait, as they would behind any commit.
    public func runImport(_ plan: ImportPlan) -> Result<ImportSummary, RPCError> {
        now = Timestamp.now()
        do {
            try db.execute("BEGIN IMMEDIATE")
            let summary: ImportSummary
            if let packet = plan.packet {
                summary = try importPacket(packet)
            } else {
                let pass = ImportPass(
                    plan: plan, db: db, counter: counter,
                    newSessionId: plan.kind == .session ? Identifier.make("ses") : nil)
                try pass.run()
                summary = pass.summary
            }
            nextEventSeq = (try db.scalarInt("SELECT COALESCE(MAX(seq), 0) FROM events") ?? 0) + 1
            try emit(
                "broker:imported",
                JSONObject([
                    ("kind", .string(plan.kind.rawValue)), ("stats", summary.json(kind: plan.kind)["stats"] ?? .null),
                    ("sessionId", .optional(summary.sessionId)),
                ]))
            db.resetAll()
            try db.execute("COMMIT")
            cache.removeAll()
            dirty.removeAll()
            return .success(summary)
        } catch {
            db.resetAll()
            if db.inTransaction { try? db.execute("ROLLBACK") }
            cache.removeAll()
            dirty.removeAll()
            events.removeAll()
            nextEventSeq = ((try? db.scalarInt("SELECT COALESCE(MAX(seq), 0) FROM events")) ?? 0) + 1
            switch error {
            case let problem as ImportProblem: return .failure(problem.rpcError)
            case let rpc as RPCError: return .failure(rpc)
            case let sqlite as SQLiteError:
                return .failure(
                    RPCError(
                        sqlite.isDiskFull ? .unavailable : .internal, "the import was not stored: \(sqlite.message)"))
            case let command as CommandError:
                switch command {
                case .rpc(let rpc): return .failure(rpc)
                case .sqlite(let sqlite):
                    return .failure(RPCError(.internal, "the import was not stored: \(sqlite.message)"))
                }
            default: return .failure(RPCError(.internal, "the import was not stored: \(error)"))
            }
        }
    }

    /// Events the last `runImport` committed, to publish.
    public func takeImportEvents() -> [Event] {
        defer { events.removeAll() }
        return events
    }

    /// A packet becomes a new session with the packet's checkpoint as version 1 and no messages.
    private func importPacket(_ packet: JSONObject) throws -> ImportSummary {
        let fields = try PacketFields(packet)
        let id = Identifier.make("ses")
        var create = try CreateSession(
            params: Params(
                JSONObject([
                    ("sessionId", .string(id)), ("type", .string(fields.type)),
                    ("featureId", .string(fields.featureId)),
                    ("taskId", .optional(fields.taskId)), ("state", .string(fields.state)),
                    ("tokenLimit", .int(fields.tokenLimit)), ("context", fields.context),
                    ("agentDescription", fields.agentDescription),
                ])))
        create.sessionId = id
        _ = try createSession(create)
        if fields.checkpoint.version > 0 {
            let update = try UpdateCheckpoint(
                params: Params(
                    JSONObject([
                        ("sessionId", .string(id)), ("expectedVersion", .int(0)),
                        ("summary", .string(fields.checkpoint.summary)),
                        ("completed", .strings(fields.checkpoint.completed)),
                        ("pending", .strings(fields.checkpoint.pending)),
                        ("decisions", .strings(fields.checkpoint.decisions)),
                        ("blockers", .strings(fields.checkpoint.blockers)),
                    ])))
            _ = try updateCheckpoint(update)
        }
        for id in dirty {
            if let record = cache[id] { try writeSessionRow(record) }
        }
        var summary = ImportSummary()
        summary.formatVersion = fields.version
        summary.counts = [.sessions: 1, .checkpoints: fields.checkpoint.version > 0 ? 1 : 0]
        summary.sessionId = id
        summary.source = "packet"
        return summary
    }
}
