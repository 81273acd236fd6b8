import ArgumentParser
import BrokerProtocol

struct SessionRequest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Build the model request a session would send now (or preview its token breakdown).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "The new user message (the user prompt).") var message: String?
    @Flag(help: "Print the token breakdown by part as a table instead of the prompts.") var preview = false

    func run() throws {
        var params = JSONObject([("sessionId", .string(sessionId))])
        if preview {
            if let message { params["userMessage"] = .string(message) }
            let result = try global.call("session:previewRequest", params)
            global.output(result) { printBreakdown(result) }
        } else {
            params["userMessage"] = .string(message ?? "")
            let result = try global.call("session:buildRequest", params)
            global.output(result) {
                print("--- system prompt ---")
                print(result["systemPrompt"]?.stringValue ?? "")
                print("--- user prompt ---")
                print(result["userPrompt"]?.stringValue ?? "")
                print("---")
                print(
                    "\(Pretty.cell(result["totalTokens"])) tokens of \(Pretty.cell(result["tokenLimit"])); "
                        + "\(Pretty.cell(result["includedMessages"])) messages included, "
                        + "\(Pretty.cell(result["omittedMessages"])) omitted")
            }
        }
    }

    private func printBreakdown(_ result: JSON) {
        let total = result["breakdown"]?["total"]?.intValue ?? 0
        let parts: [(String, String)] = [
            ("agent description", "agentDescTokens"), ("context", "contextTokens"),
            ("checkpoint", "checkpointTokens"), ("messages", "messagesTokens"), ("user prompt", "userPromptTokens"),
            ("total", "total"),
        ]
        let rows = parts.map { label, key -> [String] in
            let tokens = result["breakdown"]?[key]?.intValue ?? 0
            let share = total > 0 ? Double(tokens) * 100 / Double(total) : 0
            return [label, String(tokens), String(format1(share)) + "%"]
        }
        print(Pretty.table(["part", "tokens", "share"], rows))
        print(
            "limit \(Pretty.cell(result["tokenLimit"])); \(Pretty.cell(result["includedMessages"])) messages "
                + "included, \(Pretty.cell(result["omittedMessages"])) omitted; exact: \(Pretty.cell(result["exact"]))")
    }
}

/// One decimal, without Foundation's formatters.
func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

struct SessionCompact: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact", abstract: "Compact a session now, or show what a compaction would do (--dry-run).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "Extra instructions for a model summarizer.") var instructions: String?
    @Flag(help: "Show what would be archived and the checkpoint that would result; change nothing.")
    var dryRun = false

    func run() throws {
        var params = JSONObject([("sessionId", .string(sessionId))])
        if let instructions { params["instructions"] = .string(instructions) }
        // A model summary can take minutes; a retry would only meet the running compaction (conflict).
        let result = try global.call(
            dryRun ? "session:previewCompaction" : "session:compact", params, atLeastSeconds: 600, attempts: 1)
        global.output(result) {
            if dryRun {
                let archive = result["archive"] ?? .null
                print(
                    "would archive \(Pretty.cell(archive["messageCount"])) messages "
                        + "(seq \(Pretty.cell(archive["fromSeq"]))-\(Pretty.cell(archive["throughSeq"])), "
                        + "\(Pretty.cell(archive["tokens"])) tokens), keep \(Pretty.cell(result["keptMessages"])) active; "
                        + "request tokens \(Pretty.cell(result["tokensBefore"])) -> \(Pretty.cell(result["tokensAfter"])) "
                        + "(\(Pretty.cell(result["summarizer"])))")
                CheckpointText.print(result["checkpoint"] ?? .null, sessionId: sessionId)
            } else if case .object(let object) = result {
                print(Pretty.fields(object))
            }
        }
    }
}

struct SessionCompactions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compactions", abstract: "List a session's compactions, newest first.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "At most this many.") var limit: Int = 100

    func run() throws {
        let result = try global.call(
            "session:listCompactions", ["sessionId": .string(sessionId), "limit": .int(Int64(limit))])
        global.output(result) {
            let rows = (result["compactions"]?.arrayValue ?? []).map { item -> [String] in
                [
                    Pretty.cell(item["checkpointVersion"]), Pretty.cell(item["reason"]), Pretty.cell(item["createdAt"]),
                    "\(Pretty.cell(item["fromSeq"]))-\(Pretty.cell(item["throughSeq"]))",
                    Pretty.cell(item["messageCount"]), Pretty.cell(item["tokensBefore"]),
                    Pretty.cell(item["tokensAfter"]), Pretty.cell(item["tokensSaved"]), Pretty.cell(item["durationMs"]),
                    Pretty.cell(item["summarizer"]),
                ]
            }
            print(
                Pretty.table(
                    ["version", "reason", "at", "seqs", "messages", "before", "after", "saved", "ms", "summarizer"],
                    rows
                ))
        }
    }
}
