import BrokerProtocol
import Foundation

/// An OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server, Ollama, …).
public struct OpenAICompatibleProvider: ModelProvider {
    /// Base URL up to the API version, such as `https://api.openai.com/v1`; `/chat/completions` is appended.
    public let baseURL: URL
    public let model: String
    private let apiKey: String?
    private let transport: HTTPTransport

    public init(baseURL: URL, model: String, apiKey: String?, timeoutSeconds: Double = 120) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        transport = HTTPTransport(timeoutSeconds: timeoutSeconds)
    }

    public var label: String { "openai:\(model)" }

    public func complete(_ request: ModelRequest) throws(ModelError) -> ModelResponse {
        var messages: [JSON] = []
        if !request.system.isEmpty { messages.append(["role": "system", "content": .string(request.system)]) }
        for message in request.messages {
            messages.append(["role": .string(message.role), "content": .string(message.content)])
        }
        var body: JSONObject = [
            "model": .string(model), "messages": .array(messages), "max_tokens": .int(request.maxTokens),
        ]
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        var headers: [String: String] = [:]
        if let apiKey { headers["Authorization"] = "Bearer \(apiKey)" }
        let (status, bytes) = try transport.post(
            url: baseURL.appendingPathComponent("chat/completions"), headers: headers, body: .object(body))
        guard (200..<300).contains(status) else { throw .http(status: status, message: errorMessage(bytes)) }
        guard let answer = try? JSONParser.parse(bytes) else { throw .malformed("the body is not JSON") }
        guard let text = answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue else {
            throw .malformed("no choices[0].message.content")
        }
        return ModelResponse(
            text: text, model: answer["model"]?.stringValue ?? model,
            inputTokens: answer["usage"]?["prompt_tokens"]?.intValue.map(Int.init),
            outputTokens: answer["usage"]?["completion_tokens"]?.intValue.map(Int.init))
    }
}
