import BrokerProtocol

/// `task:create`.
public struct CreateTask: Sendable {
    public var taskId: String?
    public var featureId: String
    public var title: String
    public var description: String
    public var checks: [TaskCheck]
    public var dependsOn: [String]
    public var workspace: JSONObject?

    public init(params: Params) throws(RPCError) {
        try params.requireOnly(["taskId", "featureId", "title", "description", "checks", "dependsOn", "workspace"])
        taskId = try params.clientId("taskId")
        featureId = try params.identifier("featureId")
        title = try params.string("title", maxBytes: 4_096)
        description = try params.optionalString("description", maxBytes: 256 * 1024) ?? ""
        guard let items = params["checks"]?.arrayValue ?? (params["checks"] == nil ? [] : nil) else {
            throw RPCError.invalidParams("'checks' must be an array of commands or {name, command}", field: "checks")
        }
        checks = []
        for (index, item) in items.enumerated() {
            guard let check = TaskCheck(json: item) else {
                throw RPCError.invalidParams(
                    "checks[\(index)] must be a command string or {name, command, timeoutMs (1000..86400000)}",
                    field: "checks")
            }
            checks.append(check)
        }
        dependsOn = try params.optionalStrings("dependsOn", maxItems: 1_000) ?? []
        workspace = try params.optionalObject("workspace")
        if let workspace {
            for key in ["repo", "baseBranch", "branch"] where workspace[key]?.stringValue?.isEmpty ?? true {
                throw RPCError.invalidParams("'workspace' needs a non-empty string '\(key)'", field: "workspace")
            }
        }
    }
}

/// `task:update`: a state move, the current iteration, a session used, a failure reason.
public struct UpdateTask: Sendable {
    public var taskId: String
    public var state: TaskState?
    public var iteration: Int64?
    public var sessionId: String?
    public var failureReason: String?
    public var requestId: String?

    public init(params: Params) throws(RPCError) {
        try params.requireOnly(["taskId", "state", "iteration", "sessionId", "failureReason", "requestId"])
        taskId = try params.identifier("taskId")
        if let name = try params.optionalIdentifier("state") {
            guard let state = TaskState(rawValue: name) else {
                let names = TaskState.allCases.map(\.rawValue).joined(separator: ", ")
                throw RPCError.invalidParams("'state' must be one of \(names)", field: "state")
            }
            self.state = state
        }
        iteration = try params.optionalInt("iteration", range: 0...1_000_000)
        sessionId = try params.optionalIdentifier("sessionId")
        failureReason = try params.optionalString("failureReason", maxBytes: 64 * 1024)
        requestId = try params.clientId("requestId")
    }
}

/// `task:recordIteration`: the check results of one Dev iteration.
public struct RecordIteration: Sendable {
    public var taskId: String
    public var iteration: Int64
    public var results: JSONObject
    public var requestId: String?

    public init(params: Params) throws(RPCError) {
        try params.requireOnly(["taskId", "iteration", "results", "requestId"])
        taskId = try params.identifier("taskId")
        guard let iteration = try params.optionalInt("iteration", range: 1...1_000_000) else {
            throw RPCError.invalidParams("missing parameter 'iteration'", field: "iteration")
        }
        self.iteration = iteration
        guard let results = try params.optionalObject("results") else {
            throw RPCError.invalidParams("missing parameter 'results'", field: "results")
        }
        self.results = results
        requestId = try params.clientId("requestId")
    }

    /// Whether every check passed, as the results say (`passed: true`).
    public var passed: Bool { results["passed"]?.boolValue ?? false }
}
