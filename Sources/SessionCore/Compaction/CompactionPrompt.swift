import BrokerProtocol

/// The documented prompt a model-backed summarizer sends, and the parser for its JSON answer.
///
/// The system prompt states the task and the rules; the user prompt holds the
/// current checkpoint as JSON, any extra instructions, and the messages in the
/// request layout. The answer must be one JSON object
/// `{summary, completed, pending, decisions, blockers}` (strings and arrays of
/// strings); a fenced ```json block or text around the object is tolerated,
/// anything else is malformed.
public enum CompactionPrompt {
    public static let system = """
        You compact the memory of an AI agent's working session. You receive the session's current \
        checkpoint and the messages exchanged since it was written. Produce the next checkpoint.

        Rules:
        - Answer with one JSON object and nothing else: \
        {"summary": string, "completed": [string], "pending": [string], "decisions": [string], "blockers": [string]}.
        - Keep every item of the current checkpoint's pending, decisions and blockers lists, word for word. \
        A pending item that the messages show as done moves to completed, unchanged.
        - Add the work completed, the work still pending, the decisions taken (with their reasons) and the \
        blockers found in the messages, one short item each.
        - The summary says, in a few paragraphs, what the session is doing, what was tried and learnt, and \
        the rules and corrections the user gave. Keep names, file paths, commands and numbers exact.
        """

    /// The user prompt for `input`, with the items the embedded rules found (`hints`) when given.
    public static func user(_ input: SummaryInput, hints: Checkpoint? = nil) -> String {
        let current = JSONObject([
            ("summary", .string(input.checkpoint.summary)), ("completed", .strings(input.checkpoint.completed)),
            ("pending", .strings(input.checkpoint.pending)), ("decisions", .strings(input.checkpoint.decisions)),
            ("blockers", .strings(input.checkpoint.blockers)),
        ])
        var text = "# Current checkpoint\n\n" + JSON.object(current).serializedString + "\n\n"
        if let hints, !(hints.completed + hints.pending + hints.decisions + hints.blockers).isEmpty {
            let found = JSONObject([
                ("completed", .strings(hints.completed)), ("pending", .strings(hints.pending)),
                ("decisions", .strings(hints.decisions)), ("blockers", .strings(hints.blockers)),
            ])
            text += "# Items found by rules (check them against the messages; keep what is right, add what is missing)\n\n"
            text += JSON.object(found).serializedString + "\n\n"
        }
        if let instructions = input.instructions, !instructions.isEmpty {
            text += "# Extra instructions\n\n" + instructions + "\n\n"
        }
        text += "# Messages to fold in (\(input.messages.count))\n\n"
        for message in input.messages {
            text += RequestLayout.messageBlock(
                role: message.role, content: message.content, name: message.name, toolCallId: message.toolCallId)
        }
        return text + "Answer with the JSON object only."
    }

    /// Parses a model's answer into a checkpoint; throws with what is wrong.
    public static func parse(_ answer: String) throws(SummaryError) -> Checkpoint {
        guard let open = answer.firstIndex(of: "{"), let close = answer.lastIndex(of: "}"), open < close else {
            throw SummaryError("the answer holds no JSON object: \(preview(answer))")
        }
        let json: JSON
        do { json = try JSONParser.parse(String(answer[open...close])) } catch {
            throw SummaryError("the answer's JSON does not parse (\(error)): \(preview(answer))")
        }
        guard let object = json.objectValue else { throw SummaryError("the answer is not a JSON object") }
        func list(_ key: String) throws(SummaryError) -> [String] {
            guard let value = object[key], !value.isNull else { return [] }
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw SummaryError("'\(key)' must be an array of strings")
            }
            return items.compactMap(\.stringValue).filter { !$0.isEmpty }
        }
        guard let summary = object["summary"]?.stringValue else {
            throw SummaryError("the answer has no string 'summary'")
        }
        return Checkpoint(
            summary: summary, completed: try list("completed"), pending: try list("pending"),
            decisions: try list("decisions"), blockers: try list("blockers"))
    }

    private static func preview(_ text: String) -> String {
        text.count <= 120 ? text : String(text.prefix(120)) + "…"
    }
}
