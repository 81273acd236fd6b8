import BrokerProtocol
import Foundation
import ModelProviders
import Testing

@Suite("command and replay providers, settings")
struct LocalProviderTests {
    let request = ModelRequest(system: "Be brief.", messages: [ModelMessage(role: "user", content: "ping")])

    @Test("command: the prompt goes to standard input, the answer comes from standard output")
    func command() throws {
        let provider = CommandProvider(executable: "/bin/sh", arguments: ["-c", "tr a-z A-Z"], timeoutSeconds: 10)
        let response = try provider.complete(request)
        #expect(response.text.contains("BE BRIEF.") && response.text.contains("PING"))
    }

    @Test("command: a failing program and a hung one are errors, with stderr and a time-out")
    func commandFailures() throws {
        let failing = CommandProvider(executable: "/bin/sh", arguments: ["-c", "echo broken >&2; exit 3"])
        #expect(throws: ModelError.command(exitCode: 3, stderr: "broken\n")) { try failing.complete(request) }
        let hung = CommandProvider(executable: "/bin/sh", arguments: ["-c", "exec sleep 30"], timeoutSeconds: 0.3)
        #expect(throws: ModelError.timeout(seconds: 0.3)) { try hung.complete(request) }
        let missing = CommandProvider(executable: "/nonexistent/model")
        #expect(throws: ModelError.self) { try missing.complete(request) }
    }

    @Test("command: a program that exits without reading a large prompt does not kill the caller")
    func commandIgnoresItsInput() throws {
        let big = ModelRequest(
            system: "", messages: [ModelMessage(role: "user", content: String(repeating: "x", count: 1 << 20))])
        let provider = CommandProvider(executable: "/bin/sh", arguments: ["-c", "echo done"], timeoutSeconds: 10)
        #expect(try provider.complete(big).text == "done\n")
    }

    @Test("replay: answers in order, with usage when recorded, then exhausted")
    func replay() throws {
        let file = NSTemporaryDirectory() + "replay-\(UUID().uuidString).json"
        try #"["first", {"text": "second", "inputTokens": 3, "outputTokens": 2}]"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let provider = try ReplayProvider(path: file)
        #expect(try provider.complete(request).text == "first")
        let second = try provider.complete(request)
        #expect(second.text == "second" && second.inputTokens == 3)
        #expect(throws: ModelError.exhausted(file)) { try provider.complete(request) }
        try "{not a list".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ModelError.self) { try ReplayProvider(path: file) }
    }

    @Test("settings: environment overrides the file; keys come from the environment and never show")
    func settings() throws {
        let settings = try ModelProviderSettings.resolve(
            ["provider": "openai", "model": "from-file", "endpoint": "http://127.0.0.1:1/v1"],
            environment: ["AGENTBROKER_MODEL": "from-env"])
        #expect(settings.kind == .openai && settings.model == "from-env")
        let provider = try settings.makeProvider(environment: ["OPENAI_API_KEY": "sk-secret"])
        #expect(provider.label == "openai:from-env")
        #expect(!"\(settings)".contains("sk-secret") && !"\(provider)".contains("sk-secret"))
        #expect(throws: ModelError.self) {
            try ModelProviderSettings(kind: .anthropic).makeProvider(environment: [:])
        }
        #expect(throws: ModelError.self) { try ModelProviderSettings.resolve(["provider": "magic"], environment: [:]) }
        #expect(throws: ModelError.self) {
            try ModelProviderSettings(kind: .openai, endpoint: "ftp://x").makeProvider(environment: [:])
        }
    }
}
