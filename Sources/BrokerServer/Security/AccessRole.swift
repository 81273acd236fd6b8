/// What a client key may do: the role in its certificate's metadata, set by the broker's operator.
///
/// The table is Protocols/AGENTBROKER-RPC.md section 15.3; `AccessRoleTests` checks every method
/// of the method table has an answer for every role, so a new method cannot slip in unlisted.
public enum AccessRole: String, Sendable, CaseIterable {
    /// Everything, on every endpoint, and attaching as a worker for any service.
    case admin
    /// What `ralph` needs: sessions, jobs, tasks and events; not delete, export or import.
    case controller
    /// What an agent needs: sessions other than delete and reset, the job and task calls it makes,
    /// events; attaching as a worker only for the services its certificate lists.
    case agent
    /// Reads, `events:since` and subscribing; nothing that writes or calls a model.
    case reader

    /// Whether this role may call `method` on the api endpoint.
    public func allows(_ method: String) -> Bool {
        switch self {
        case .admin: true
        case .controller: Self.readMethods.contains(method) || Self.controllerWrites.contains(method)
        case .agent: Self.readMethods.contains(method) || Self.agentWrites.contains(method)
        case .reader: Self.readMethods.contains(method)
        }
    }

    /// Whether this role may attach to the workers endpoint at all (`services` then narrows an agent).
    public var mayServe: Bool { self == .admin || self == .agent }

    /// Reads with no side effect a model bill or another client would notice.
    /// `session:buildRequest` is left out: building a request may start a compaction, which may call a model.
    static let readMethods: Set<String> = [
        "broker:ping", "broker:stats", "session:get", "session:list", "session:getMessages", "session:getCheckpoint",
        "session:getContext", "session:getAgentDescription", "session:estimateSize", "session:previewRequest",
        "session:listCompactions", "session:export", "job:get", "job:list", "job:wait", "worker:list", "task:get",
        "task:list", "events:since",
    ]

    /// Session work of every kind but delete, plus jobs and tasks: the Ralph Loop's calls.
    static let controllerWrites: Set<String> = [
        "session:create", "session:addMessage", "session:updateCheckpoint", "session:setContext",
        "session:setAgentDescription", "session:clearMessages", "session:reset", "session:buildRequest",
        "session:compact", "session:previewCompaction", "job:submit", "job:cancel", "task:create", "task:update",
        "task:recordIteration",
    ]

    /// Session work but delete and reset, and `task:create` (the PM agent plans tasks). Not `job:submit`: an
    /// agent key must not start work on other services (a `qa` job's checks are shell commands), and not
    /// `task:update`: a task's state is the controller's to move.
    static let agentWrites: Set<String> = [
        "session:create", "session:addMessage", "session:updateCheckpoint", "session:setContext",
        "session:setAgentDescription", "session:clearMessages", "session:buildRequest", "session:compact",
        "session:previewCompaction", "task:create",
    ]
}
