import BrokerProtocol
import Foundation
import ModelProviders
import Testing

@Suite("HTTP model providers against a real server on loopback")
struct HTTPProviderTests {
    let request = ModelRequest(
        system: "You summarise.", messages: [ModelMessage(role: "user", content: "hello")], maxTokens: 64)

    @Test("OpenAI-compatible: request shape, bearer key, answer and usage")
    func openAI() async throws {
        let server = try FakeModelServer()
        let provider = OpenAICompatibleProvider(
            baseURL: server.baseURL.appendingPathComponent("v1"), model: "ok", apiKey: "sk-test", timeoutSeconds: 5)
        let request = self.request
        let response = try await offPool { try provider.complete(request) }
        let seen = try JSONParser.parse(response.text)
        #expect(seen["auth"] == "Bearer sk-test")
        #expect(seen["messages"]?.arrayValue?.first?["role"] == "system")
        #expect(seen["messages"]?.arrayValue?.last?["content"] == "hello")
        #expect(seen["max_tokens"] == 64)
        #expect(response.inputTokens == 13 && response.outputTokens == 5)
        #expect(!provider.label.contains("sk-test"))
    }

    @Test("Anthropic: x-api-key, version header, system apart, text blocks and usage")
    func anthropic() async throws {
        let server = try FakeModelServer()
        let provider = AnthropicProvider(baseURL: server.baseURL, model: "ok", apiKey: "ak-test", timeoutSeconds: 5)
        let request = self.request
        let response = try await offPool { try provider.complete(request) }
        let seen = try JSONParser.parse(response.text)
        #expect(seen["auth"] == "ak-test")
        #expect(seen["version"] == .string(AnthropicProvider.apiVersion))
        #expect(seen["system"] == "You summarise.")
        #expect(seen["messages"]?.arrayValue?.count == 1)
        #expect(response.inputTokens == 11 && response.outputTokens == 7)
    }

    @Test(
        "error statuses, malformed bodies and wrong shapes are typed errors",
        arguments: [
            ("status-429", ModelError.http(status: 429, message: "simulated 429")),
            ("status-500", .http(status: 500, message: "simulated 500")),
            ("status-401", .http(status: 401, message: "simulated 401")),
            ("malformed", .malformed("the body is not JSON")),
        ])
    func errors(_ model: String, _ expected: ModelError) async throws {
        let server = try FakeModelServer()
        let openAI = OpenAICompatibleProvider(
            baseURL: server.baseURL.appendingPathComponent("v1"), model: model, apiKey: nil, timeoutSeconds: 5)
        let request = self.request
        await #expect(throws: expected) { try await offPool { try openAI.complete(request) } }
        let anthropic = AnthropicProvider(baseURL: server.baseURL, model: model, apiKey: "k", timeoutSeconds: 5)
        await #expect(throws: expected) { try await offPool { try anthropic.complete(request) } }
        #expect(expected.isTransient == (model == "status-429" || model == "status-500"))
    }

    @Test("a wrong shape is malformed; a slow server times out; a closed port is a transport error")
    func shapesTimeoutsAndRefusals() async throws {
        let request = self.request
        let server = try FakeModelServer()
        let wrong = OpenAICompatibleProvider(
            baseURL: server.baseURL, model: "wrong-shape", apiKey: nil, timeoutSeconds: 5)
        await #expect(throws: ModelError.self) { try await offPool { try wrong.complete(request) } }
        let slow = AnthropicProvider(baseURL: server.baseURL, model: "slow", apiKey: "k", timeoutSeconds: 0.5)
        await #expect(throws: ModelError.timeout(seconds: 0.5)) { try await offPool { try slow.complete(request) } }
        let closed = OpenAICompatibleProvider(
            baseURL: URL(string: "http://127.0.0.1:9")!, model: "ok", apiKey: nil, timeoutSeconds: 2)
        await #expect {
            try await offPool { try closed.complete(request) }
        } throws: { error in
            if case .transport = error as? ModelError { return true }
            return false
        }
    }
}
