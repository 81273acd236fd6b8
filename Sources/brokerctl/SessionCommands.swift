import ArgumentParser
import BrokerProtocol

#if canImport(Glibc)
    import Glibc
#endif

struct SessionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "List, show, create and change sessions.",
        subcommands: [
            SessionList.self, SessionShow.self, SessionCreate.self, SessionAdd.self, SessionMessages.self,
            SessionCheckpoint.self, SessionContext.self, SessionClear.self, SessionRemove.self,
            SessionRequest.self, SessionCompact.self, SessionCompactions.self, SessionExport.self,
            SessionImport.self,
        ])
}

struct SessionList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List sessions.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only sessions of this type (pm, dev, qa, harness, merge, …).") var type: String?
    @Option(help: "Only sessions of this feature.") var feature: String?
    @Option(help: "Only sessions of this task.") var task: String?
    @Option(help: "Only sessions in this state.") var state: String?
    @Option(help: "At most this many sessions (all when omitted).") var limit: Int?

    func run() throws {
        var sessions: [JSON] = []
        var cursor: JSON = .null
        repeat {
            var params = JSONObject()
            for (key, value) in [("type", type), ("featureId", feature), ("taskId", task), ("state", state)] {
                if let value { params[key] = .string(value) }
            }
            let remaining = limit.map { $0 - sessions.count } ?? 1_000
            params["limit"] = .int(min(1_000, max(1, remaining)))
            if case .string = cursor { params["cursor"] = cursor }
            let page = try global.call("session:list", params)
            sessions += page["sessions"]?.arrayValue ?? []
            cursor = page["nextCursor"] ?? .null
        } while !cursor.isNull && sessions.count < (limit ?? Int.max)
        global.output(.array(sessions)) {
            let columns = [
                "sessionId", "type", "featureId", "taskId", "state", "messageCount", "tokens", "checkpointVersion",
            ]
            print(
                Pretty.table(
                    ["SESSION", "TYPE", "FEATURE", "TASK", "STATE", "MESSAGES", "TOKENS", "CHECKPOINT"],
                    sessions.map { session in columns.map { Pretty.cell(session[$0]) } }))
        }
    }
}

struct SessionShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one session.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String

    func run() throws {
        let session = try global.call("session:get", ["sessionId": .string(sessionId)])
        global.output(session) { print(Pretty.fields(session.objectValue ?? JSONObject())) }
    }
}

struct SessionCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a session.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "pm, dev, qa, harness, merge or another name.") var type: String
    @Option(help: "The feature the session works on.") var feature: String
    @Option(help: "The task, for task sessions.") var task: String?
    @Option(help: "planning, in_dev, in_qa, in_review or another name.") var state: String?
    @Option(help: "Context: a JSON object, or plain text.") var context: String?
    @Option(help: "Agent description: a JSON object, or plain text.") var agent: String?
    @Option(help: "The session's token limit.") var tokenLimit: Int?
    @Option(help: "Your own session id (makes a retried create safe).") var id: String?

    func run() throws {
        var params = JSONObject([("type", .string(type)), ("featureId", .string(feature))])
        if let id { params["sessionId"] = .string(id) }
        if let task { params["taskId"] = .string(task) }
        if let state { params["state"] = .string(state) }
        if let context { params["context"] = document(context) }
        if let agent { params["agentDescription"] = document(agent) }
        if let tokenLimit { params["tokenLimit"] = .int(tokenLimit) }
        let session = try global.call("session:create", params)
        global.output(session) { print(Pretty.cell(session["sessionId"])) }
    }
}

/// A JSON object given on the command line, or else the text itself.
func document(_ text: String) -> JSON {
    if let parsed = try? JSONParser.parse(text), parsed.objectValue != nil { return parsed }
    return .string(text)
}

/// All of standard input as a string.
func readStandardInput() -> String {
    String(decoding: ProcessIO.readStandardInput(), as: UTF8.self)
}
