import BrokerProtocol
import SessionCore

/// Where a method is served.
enum Route: Sendable {
    /// On the API thread itself: cheap answers that touch no database.
    case inline
    /// On a reader thread, from its own SQLite connection.
    case read(@Sendable (SessionReader, Params) throws(RPCError) -> [UInt8])
    /// On the writer thread, after validation (and token counting) into a typed command on the API thread.
    case write(@Sendable (Params, BrokerShared) throws(RPCError) -> WriteCommand)
    /// On the compaction thread; answered when the compaction (or its dry run) is over.
    case compaction(dryRun: Bool)
    /// On the dispatcher thread, which owns workers and live jobs (`job:wait`, `worker:list`).
    case dispatcher
    /// On a reader thread, with the broker's shared state: exports (their own snapshots) and import spools.
    /// A handler that returns `TransferMethods.answeredElsewhere` has handed the reply to another thread.
    case transfer(@Sendable (TransferCall) throws(RPCError) -> [UInt8])
}

/// One transfer request as its handler sees it.
struct TransferCall: Sendable {
    let params: Params
    let shared: BrokerShared
    /// Where the reply goes, for a handler that answers on another thread or with a data frame.
    let envelope: Envelope
    let id: JSON
    /// The request's data frame, sent after its JSON frame (only by the methods in `Routes.takeDataFrame`).
    let data: [UInt8]?
}

/// The method table: every JSON-RPC method the api endpoint answers.
enum Routes {
    static let table: [String: Route] = [
        "broker:ping": .inline,
        "broker:stats": .inline,
        "session:create": .write { params, _ throws(RPCError) in .createSession(try CreateSession(params: params)) },
        "session:get": .read { reader, params throws(RPCError) in try reader.getSession(params) },
        "session:list": .read { reader, params throws(RPCError) in try reader.listSessions(params) },
        "session:delete": .write { params, _ throws(RPCError) in .delete(try SessionAction(params: params)) },
        "session:addMessage": .write { params, shared throws(RPCError) in
            var add = try AddMessage(params: params, maxContentBytes: shared.configuration.maxRequestBytes)
            // Counting takes about 25 ns a byte: small messages here, in parallel with the writer's
            // commits; a very large one is left to the writer rather than hold up every other request.
            if add.content.utf8.count <= 256 * 1024 { add.countTokens(with: shared.counter) }
            return .addMessage(add)
        },
        "session:getMessages": .read { reader, params throws(RPCError) in try reader.getMessages(params) },
        "session:getCheckpoint": .read { reader, params throws(RPCError) in try reader.getCheckpoint(params) },
        "session:updateCheckpoint": .write { params, _ throws(RPCError) in
            .updateCheckpoint(try UpdateCheckpoint(params: params))
        },
        "session:getContext": .read { reader, params throws(RPCError) in try reader.getContext(params) },
        "session:setContext": .write { params, _ throws(RPCError) in
            .setContext(try SetDocument(params: params, key: "context"))
        },
        "session:getAgentDescription": .read { reader, params throws(RPCError) in
            try reader.getAgentDescription(params)
        },
        "session:setAgentDescription": .write { params, _ throws(RPCError) in
            .setAgentDescription(try SetDocument(params: params, key: "agentDescription"))
        },
        "session:estimateSize": .read { reader, params throws(RPCError) in try reader.estimateSize(params) },
        "session:clearMessages": .write { params, _ throws(RPCError) in
            .clearMessages(try SessionAction(params: params))
        },
        "session:reset": .write { params, _ throws(RPCError) in .reset(try SessionAction(params: params)) },
        "session:buildRequest": .read { reader, params throws(RPCError) in try reader.buildRequest(params) },
        "session:previewRequest": .read { reader, params throws(RPCError) in try reader.previewRequest(params) },
        "session:compact": .compaction(dryRun: false),
        "session:previewCompaction": .compaction(dryRun: true),
        "session:listCompactions": .read { reader, params throws(RPCError) in try reader.listCompactions(params) },
        "job:submit": .write { params, shared throws(RPCError) in
            let dispatch = shared.configuration.dispatch
            return .submitJob(
                try SubmitJob(
                    params: params, defaultTimeoutMs: dispatch.jobTimeoutMs, defaultMaxAttempts: dispatch.maxAttempts))
        },
        "job:get": .read { reader, params throws(RPCError) in try reader.getJob(params) },
        "job:list": .read { reader, params throws(RPCError) in try reader.listJobs(params) },
        "job:cancel": .write { params, _ throws(RPCError) in .cancelJob(try CancelJob(params: params)) },
        "job:wait": .dispatcher,
        "worker:list": .dispatcher,
        "task:create": .write { params, _ throws(RPCError) in .createTask(try CreateTask(params: params)) },
        "task:get": .read { reader, params throws(RPCError) in try reader.getTask(params) },
        "task:list": .read { reader, params throws(RPCError) in try reader.listTasks(params) },
        "task:update": .write { params, _ throws(RPCError) in .updateTask(try UpdateTask(params: params)) },
        "task:recordIteration": .write { params, _ throws(RPCError) in
            .recordIteration(try RecordIteration(params: params))
        },
        "events:since": .read { reader, params throws(RPCError) in try reader.eventsSince(params) },
        "export:open": .transfer { call throws(RPCError) in try TransferMethods.open(call.params, call.shared) },
        "export:read": .transfer { call throws(RPCError) in try TransferMethods.read(call) },
        "export:close": .transfer { call throws(RPCError) in try TransferMethods.close(call.params, call.shared) },
        "session:export": .transfer { call throws(RPCError) in
            try TransferMethods.sessionExport(call.params, call.shared)
        },
        "import:begin": .transfer { call throws(RPCError) in try ImportMethods.begin(call.params, call.shared) },
        "import:write": .transfer { call throws(RPCError) in try ImportMethods.write(call) },
        "import:abort": .transfer { call throws(RPCError) in try ImportMethods.abort(call.params, call.shared) },
        "import:commit": .transfer { call throws(RPCError) in try ImportMethods.commit(call) },
    ]

    /// The methods whose request may carry a second frame of raw data after the JSON one.
    static let takeDataFrame: Set<String> = ["import:write"]

    /// Method names, sorted, for `method_not_found` messages and docs.
    static var methodNames: [String] { table.keys.sorted() }
}
