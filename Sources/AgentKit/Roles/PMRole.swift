import BrokerClient
import BrokerProtocol

/// Turns a feature description into tasks: titles, descriptions, check commands, dependencies.
///
/// Payload `{featureId, description, repo, featureBranch, sessionId}`; result `{taskIds}`.
/// The model's plan is validated (shape, unique keys, known and acyclic
/// dependencies); a bad one is sent back with the problem, twice at most.
public struct PMRole: AgentRole {
    public init() {}
    public var service: String { "pm" }
    public var modelNeed: ModelNeed { .required }
    public static let maxAsks = 3

    public var agentDescription: String {
        """
        You are the PM agent of a software team. You turn a feature description into a short plan of tasks \
        that developers can do one at a time. Every task has shell check commands, run from the repository \
        root, that exit 0 exactly when the task is done.
        """
    }

    static let format = """
        Answer with one JSON object and nothing else:
        {"tasks": [{"key": "t1", "title": "…", "description": "…", "checks": ["sh tests/test_x.sh"], "dependsOn": []}]}
        Keys are short and unique; dependsOn lists keys of earlier tasks.
        """

    public func perform(_ job: WorkerJob, _ context: JobContext) throws(AgentError) -> JSON {
        let featureId = try context.payloadString("featureId")
        let description = try context.payloadString("description")
        let repo = context.job.payload["repo"]?.stringValue
        let featureBranch = context.job.payload["featureBranch"]?.stringValue ?? "feature/\(featureId)"
        let sessionId = job.payload["sessionId"]?.stringValue ?? "\(featureId)-pm"
        try context.link.ensureSession(sessionId, type: "pm", featureId: featureId, taskId: nil)
        try context.prepareSession(
            sessionId, description: agentDescription,
            context: JSONObject([("featureId", .string(featureId)), ("repo", repo.map(JSON.string) ?? .null)]))
        let turn = ModelTurn(link: context.link, provider: try context.provider(), sessionId: sessionId)
        var question = "Plan this feature.\n\n\(description)\n\n\(Self.format)"
        var plan: [PlannedTask] = []
        for ask in 1...Self.maxAsks {
            let answer = try turn.ask(question, key: "\(context.key)-\(ask)")
            switch PlannedTask.parsePlan(answer.text) {
            case .success(let tasks):
                plan = tasks
            case .failure(let problem):
                context.log("plan rejected (ask \(ask) of \(Self.maxAsks)): \(problem)")
                guard ask < Self.maxAsks else {
                    throw AgentError(
                        "the model gave no valid plan in \(Self.maxAsks) answers; last problem: \(problem)")
                }
                question = "Your plan is not valid: \(problem)\n\(Self.format)"
                continue
            }
            break
        }
        var taskIds: [String] = []
        for task in plan {
            let taskId = "\(featureId)-\(task.key)"
            var params = JSONObject([
                ("taskId", .string(taskId)), ("featureId", .string(featureId)), ("title", .string(task.title)),
                ("description", .string(task.description)), ("checks", .array(task.checks)),
                ("dependsOn", .array(task.dependsOn.map { .string("\(featureId)-\($0)") })),
            ])
            if let repo {
                params["workspace"] = .object(
                    JSONObject([
                        ("repo", .string(repo)), ("baseBranch", .string(featureBranch)),
                        ("branch", .string("task/\(taskId)")),
                    ]))
            }
            try context.link.call("task:create", params)
            taskIds.append(taskId)
        }
        try context.link.updateCheckpoint(
            sessionId,
            JSONObject([
                ("summary", .string("Planned \(taskIds.count) tasks for \(featureId).")),
                ("decisions", .array(plan.map { .string("\($0.key): \($0.title)") })),
            ]))
        return .object(JSONObject([("taskIds", .array(taskIds.map(JSON.string)))]))
    }
}

/// One task of a model's plan, validated.
struct PlannedTask: Equatable {
    var key: String
    var title: String
    var description: String
    var checks: [JSON]
    var dependsOn: [String]

    /// The plan in dependency order, or the first problem found (what the model is told).
    static func parsePlan(_ answer: String) -> Result<[PlannedTask], PlanProblem> {
        guard let object = AnswerParsing.jsonObject(in: answer) else {
            return .failure(PlanProblem("no JSON object found"))
        }
        guard let items = object["tasks"]?.arrayValue, !items.isEmpty else {
            return .failure(PlanProblem("'tasks' must be a non-empty array"))
        }
        var tasks: [PlannedTask] = []
        for (index, item) in items.enumerated() {
            guard let task = item.objectValue else { return .failure(PlanProblem("tasks[\(index)] is not an object")) }
            let key = task.text("key")
            guard !key.isEmpty, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), key.utf8.count <= 64 else {
                return .failure(PlanProblem("tasks[\(index)] needs a short 'key' without spaces"))
            }
            guard !tasks.contains(where: { $0.key == key }) else {
                return .failure(PlanProblem("the key '\(key)' is used twice"))
            }
            guard !task.text("title").isEmpty else { return .failure(PlanProblem("task '\(key)' has no title")) }
            let checks = task["checks"]?.arrayValue ?? []
            guard !checks.isEmpty, checks.allSatisfy({ $0.stringValue != nil || $0["command"]?.stringValue != nil })
            else {
                return .failure(PlanProblem("task '\(key)' needs 'checks': shell commands or {name, command}"))
            }
            tasks.append(
                PlannedTask(
                    key: key, title: task.text("title"), description: task.text("description"), checks: checks,
                    dependsOn: task.strings("dependsOn")))
        }
        return order(tasks)
    }

    /// Dependencies first; an unknown key or a cycle is a problem.
    static func order(_ tasks: [PlannedTask]) -> Result<[PlannedTask], PlanProblem> {
        let keys = Set(tasks.map(\.key))
        for task in tasks {
            for dependency in task.dependsOn where !keys.contains(dependency) || dependency == task.key {
                return .failure(PlanProblem("task '\(task.key)' depends on '\(dependency)', which is not another task"))
            }
        }
        var ordered: [PlannedTask] = []
        var placed: Set<String> = []
        while ordered.count < tasks.count {
            guard
                let next = tasks.first(where: { !placed.contains($0.key) && $0.dependsOn.allSatisfy(placed.contains) })
            else { return .failure(PlanProblem("the dependencies form a cycle")) }
            ordered.append(next)
            placed.insert(next.key)
        }
        return .success(ordered)
    }
}

struct PlanProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
