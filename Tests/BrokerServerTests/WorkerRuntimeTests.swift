import BrokerClient
import BrokerProtocol
import BrokerServer
import Foundation
import Testing
import ZeroMQ

/// The worker side: reconnecting to a restarted broker, and how agents find the broker and their model.
@Suite("worker runtime and agent settings")
struct WorkerRuntimeTests {
    @Test("a worker re-registers by itself after the broker restarts, and serves the next job")
    func reconnectsAfterRestart() throws {
        let directory = TestBroker.makeDirectory()
        // ipc endpoints keep their address across the restart (an ephemeral tcp port would not).
        let configure: (inout BrokerConfiguration) -> Void = { configuration in
            configuration.apiEndpoint = "ipc://\(directory)/api.sock"
            configuration.workersEndpoint = "ipc://\(directory)/workers.sock"
        }
        var first: TestBroker? = try TestBroker(configure: configure, directory: directory)
        let context = try ZMQContext()
        let stop = Wakeup()
        var settings = WorkerSettings(endpoint: "ipc://\(directory)/workers.sock", service: "echo", name: "runtime")
        settings.heartbeatMs = 200
        let thread = Thread { [settings] in
            let runtime = WorkerRuntime(settings: settings, context: context, log: { _ in })
            try? runtime.run(stop: stop) { job in .success(.object(["echo": job.payload])) }
        }
        thread.start()
        defer { stop.signal() }
        try #require(first).waitForWorkers("echo", count: 1)
        try #require(first).call("job:submit", ["service": "echo", "jobId": "before", "payload": 1])
        #expect(try #require(first).waitForJob("before")["result"]?["echo"]?.intValue == 1)

        first?.broker.stop()
        first = nil
        let second = try TestBroker(configure: configure, directory: directory)
        try second.waitForWorkers("echo", count: 1, timeoutMs: 10_000)
        try second.call("job:submit", ["service": "echo", "jobId": "after", "payload": 2])
        let job = try second.waitForJob("after")
        #expect(job["state"]?.stringValue == "completed")
        #expect(job["result"]?["echo"]?.intValue == 2)
    }

    @Test("agents find the broker through BROKER_API and BROKER_WORKERS, like the broker itself")
    func brokerFromEnvironment() throws {
        let broker = try TestBroker()
        let log = broker.directory + "/qa.log"
        let agent = try Processes.start(
            "qa-agent", ["--heartbeat-ms", "200"], logFile: log,
            environment: ["BROKER_API": broker.endpoints.api, "BROKER_WORKERS": broker.endpoints.workers])
        defer {
            kill(agent.processIdentifier, SIGKILL)
            _ = Processes.waitForExit(agent, timeout: 10)
        }
        try broker.waitForWorkers("qa", count: 1, timeoutMs: 10_000)
    }

    @Test("a model set by flags, environment or --config is checked at start; a role that needs one says so")
    func modelSettings() throws {
        let directory = TestBroker.makeDirectory()
        let missing = directory + "/no-such-answers.json"
        let byFlag = try Processes.run("dev-agent", ["--provider", "replay", "--replay-file", missing], timeout: 20)
        #expect(byFlag.status != 0)
        #expect(byFlag.stderr.contains("no-such-answers.json"), "\(byFlag.stderr)")

        let byEnvironment = try Processes.run(
            "dev-agent", [], environment: ["AGENTBROKER_MODEL_PROVIDER": "replay", "AGENTBROKER_REPLAY_FILE": missing],
            timeout: 20)
        #expect(byEnvironment.status != 0)
        #expect(byEnvironment.stderr.contains("no-such-answers.json"), "\(byEnvironment.stderr)")

        let config = directory + "/agent.json"
        try #"{"model": {"provider": "replay", "replayFile": "\#(missing)"}}"#.write(
            toFile: config, atomically: true, encoding: .utf8)
        let byConfig = try Processes.run("harness-agent", ["--config", config], timeout: 20)
        #expect(byConfig.status != 0)
        #expect(byConfig.stderr.contains("no-such-answers.json"), "\(byConfig.stderr)")

        let none = try Processes.run(
            "pm-agent", [], environment: ["AGENTBROKER_MODEL_PROVIDER": "", "AGENTBROKER_REPLAY_FILE": ""], timeout: 20)
        #expect(none.status != 0)
        #expect(none.stderr.contains("needs a model"), "\(none.stderr)")
    }
}
