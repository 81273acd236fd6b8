import BrokerProtocol
import ModelProviders

/// One exchange with a model, built and recorded through the broker.
///
/// The request comes from `session:buildRequest` (agent description, context,
/// checkpoint, conversation, under the session's token limit); the question
/// and the answer are then stored with `session:addMessage`, so the session
/// holds what was sent and received and the next turn sees it.
public struct ModelTurn {
    public let link: BrokerLink
    public let provider: any ModelProvider
    public let sessionId: String

    public init(link: BrokerLink, provider: any ModelProvider, sessionId: String) {
        self.link = link
        self.provider = provider
        self.sessionId = sessionId
    }

    /// Asks `question`; `key` (unique per job attempt and turn) keeps retried stores single.
    public func ask(_ question: String, key: String) throws(AgentError) -> ModelResponse {
        let built = try link.call(
            "session:buildRequest", JSONObject([("sessionId", .string(sessionId)), ("userMessage", .string(question))]))
        let request = ModelRequest(
            system: built.text("systemPrompt"),
            messages: [ModelMessage(role: "user", content: built.text("userPrompt"))])
        let response: ModelResponse
        do { response = try provider.complete(request) } catch {
            throw AgentError("model \(provider.label): \(error)")
        }
        try link.addMessage(sessionId, role: "user", content: question, messageId: "\(key)-q")
        // The usage the provider reported travels with the answer, so a session packet can total it.
        let reported = response.inputTokens != nil || response.outputTokens != nil
        try link.addMessage(
            sessionId, role: "assistant", content: response.text, messageId: "\(key)-a",
            metadata: reported ? JSONObject([("usage", response.usageJSON)]) : nil)
        return response
    }
}

extension ModelResponse {
    /// Usage as a job result reports it (zeros when the provider reported none).
    public var usageJSON: JSON {
        .object(
            JSONObject([
                ("model", model.map(JSON.string) ?? .null), ("inputTokens", .int(Int64(inputTokens ?? 0))),
                ("outputTokens", .int(Int64(outputTokens ?? 0))),
            ]))
    }
}
