import ArgumentParser
import BrokerProtocol
import SessionCore

struct SessionAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a message to a session.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "system, user, assistant or tool.") var role: String = "user"
    @Argument(help: "The message text; '-' reads standard input.") var content: String
    @Option(help: "A message id of your own (default: one made here, so retries never store twice).")
    var messageId: String?
    @Option(help: "The author's name.") var name: String?

    func run() throws {
        var params = JSONObject([
            ("sessionId", .string(sessionId)), ("role", .string(role)),
            ("content", .string(content == "-" ? readStandardInput() : content)),
            ("messageId", .string(messageId ?? Identifier.make("msg"))),
        ])
        if let name { params["name"] = .string(name) }
        let result = try global.call("session:addMessage", params)
        global.output(result) {
            print(
                "\(Pretty.cell(result["messageId"])) seq \(Pretty.cell(result["seq"])), "
                    + "\(Pretty.cell(result["tokens"])) tokens; session holds \(Pretty.cell(result["sessionTokens"]))"
            )
        }
    }
}

struct SessionMessages: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "messages", abstract: "Print a session's messages.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "Only messages after this sequence number.") var after: Int64 = 0
    @Option(help: "At most this many messages (all when omitted).") var limit: Int?
    @Flag(help: "Include archived (cleared or compacted) messages.") var archived = false

    func run() throws {
        var messages: [JSON] = []
        var afterSeq = after
        while true {
            let page = try global.call(
                "session:getMessages",
                [
                    "sessionId": .string(sessionId), "afterSeq": .int(afterSeq), "includeArchived": .bool(archived),
                    "limit": .int(min(10_000, limit.map { $0 - messages.count } ?? 10_000)),
                ])
            messages += page["messages"]?.arrayValue ?? []
            afterSeq = page["nextSeq"]?.intValue ?? afterSeq
            if page["hasMore"]?.boolValue != true || messages.count >= (limit ?? Int.max) { break }
        }
        global.output(.array(messages)) {
            for message in messages {
                let archivedMark = message["archived"]?.boolValue == true ? " (archived)" : ""
                print(
                    "#\(Pretty.cell(message["seq"])) \(Pretty.cell(message["role"]))\(archivedMark) [\(Pretty.cell(message["tokens"])) tokens]"
                )
                print(Pretty.cell(message["content"]))
                print("")
            }
        }
    }
}

struct SessionClear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear", abstract: "Archive a session's messages (they stay readable with --archived).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String

    func run() throws {
        let result = try global.call(
            "session:clearMessages",
            [
                "sessionId": .string(sessionId), "requestId": .string(Identifier.make("req")),
            ])
        global.output(result) { print("archived \(Pretty.cell(result["archivedCount"])) messages") }
    }
}

struct SessionRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete a session and all its messages and checkpoints.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String

    func run() throws {
        let result = try global.call(
            "session:delete",
            [
                "sessionId": .string(sessionId), "requestId": .string(Identifier.make("req")),
            ])
        global.output(result) { print("deleted \(sessionId) with \(Pretty.cell(result["messagesDeleted"])) messages") }
    }
}
