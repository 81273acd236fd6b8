import BrokerServer
import Foundation
import Testing

/// The `dispatch` configuration block, and the shipped example configuration.
@Suite("dispatch configuration")
struct DispatchConfigurationTests {
    func resolve(_ json: String) throws -> BrokerConfiguration {
        let file = TestBroker.makeDirectory() + "/config.json"
        try json.write(toFile: file, atomically: true, encoding: .utf8)
        return try BrokerConfiguration.resolve(flags: ConfigurationOverrides(configFile: file), environment: [:])
    }

    @Test("values are read; unknown keys and out-of-range values are refused with the key named")
    func dispatchBlock() throws {
        let configuration = try resolve(#"{"dispatch": {"heartbeatMs": 1000, "liveness": 5, "maxAttempts": 2}}"#)
        #expect(configuration.dispatch.heartbeatMs == 1_000)
        #expect(configuration.dispatch.expiryMs == 5_000)
        #expect(configuration.dispatch.maxAttempts == 2)
        #expect(configuration.dispatch.jobTimeoutMs == 1_800_000)
        #expect(throws: ConfigurationError.self) { try resolve(#"{"dispatch": {"heartbeat": 1}}"#) }
        #expect(throws: ConfigurationError.self) { try resolve(#"{"dispatch": {"liveness": 0}}"#) }
        #expect(throws: ConfigurationError.self) { try resolve(#"{"dispatch": 5}"#) }
        let error = try #require(throws: ConfigurationError.self) {
            try resolve(#"{"dispatch": {"maxAttempts": 99}}"#)
        }
        #expect(error.message.contains("dispatch.maxAttempts"))
    }

    @Test("deploy/broker.example.json loads and matches the defaults it documents")
    func exampleConfiguration() throws {
        let path = Processes.repositoryRoot.appendingPathComponent("deploy/broker.example.json").path
        let configuration = try BrokerConfiguration.resolve(
            flags: ConfigurationOverrides(configFile: path), environment: [:])
        #expect(configuration.dispatch == DispatchSettings())
        #expect(configuration.workersEndpoint == "tcp://127.0.0.1:5557")
    }
}
