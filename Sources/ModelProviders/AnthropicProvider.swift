import BrokerProtocol
import Foundation

/// The Anthropic Messages API.
public struct AnthropicProvider: ModelProvider {
    /// Base URL, such as `https://api.anthropic.com`; `/v1/messages` is appended.
    public let baseURL: URL
    public let model: String
    private let apiKey: String
    private let transport: HTTPTransport
    /// The API version header the request and response shapes below follow.
    public static let apiVersion = "2023-06-01"

    public init(baseURL: URL, model: String, apiKey: String, timeoutSeconds: Double = 120) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        transport = HTTPTransport(timeoutSeconds: timeoutSeconds)
    }

    public var label: String { "anthropic:\(model)" }

    public func complete(_ request: ModelRequest) throws(ModelError) -> ModelResponse {
        var body: JSONObject = [
            "model": .string(model), "max_tokens": .int(request.maxTokens),
            "messages": .array(request.messages.map { ["role": .string($0.role), "content": .string($0.content)] }),
        ]
        if !request.system.isEmpty { body["system"] = .string(request.system) }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        let headers = ["x-api-key": apiKey, "anthropic-version": Self.apiVersion]
        let (status, bytes) = try transport.post(
            url: baseURL.appendingPathComponent("v1/messages"), headers: headers, body: .object(body))
        guard (200..<300).contains(status) else { throw .http(status: status, message: errorMessage(bytes)) }
        guard let answer = try? JSONParser.parse(bytes) else { throw .malformed("the body is not JSON") }
        guard let blocks = answer["content"]?.arrayValue else { throw .malformed("no content array") }
        let texts = blocks.filter { $0["type"]?.stringValue == "text" }.compactMap { $0["text"]?.stringValue }
        guard !texts.isEmpty else { throw .malformed("no text block in content") }
        return ModelResponse(
            text: texts.joined(), model: answer["model"]?.stringValue ?? model,
            inputTokens: answer["usage"]?["input_tokens"]?.intValue.map(Int.init),
            outputTokens: answer["usage"]?["output_tokens"]?.intValue.map(Int.init))
    }
}
