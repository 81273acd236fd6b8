import BrokerClient
import BrokerProtocol
import Foundation
import ModelProviders
import ZeroMQ

/// Signalled by SIGINT or SIGTERM: the worker says DISCONNECT and the agent exits.
let agentStopSignal = Wakeup()

/// Runs an agent: attaches to the workers endpoint under its service and serves jobs until stopped.
public enum AgentMain {
    public static func run(_ role: some AgentRole, options: AgentOptions) throws {
        let service = options.service ?? role.service
        let name = options.name ?? "\(service)-agent-\(getpid())"
        let log: @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data("[\(name)] \(line)\n".utf8))
        }
        let settings = try options.modelSettings()
        if settings == nil && role.modelNeed == .required {
            throw AgentError(
                "\(service)-agent needs a model: give --provider (openai, anthropic, command or replay), "
                    + "AGENTBROKER_MODEL_PROVIDER, or --config")
        }
        if let settings {
            // Made now, so a missing key or replay file stops the agent at start, not at its first job.
            do { _ = try SharedProviders.provider(for: settings) } catch { throw AgentError("\(error)") }
        }
        _ = agentStopSignal.fileDescriptor
        signal(SIGINT) { _ in agentStopSignal.signal() }
        signal(SIGTERM) { _ in agentStopSignal.signal() }

        let curve = try options.broker.curveKeys { log("warning: \($0)") }
        let context = try ZMQContext(ioThreads: 1)
        let api = options.broker.apiEndpoint
        var workerSettings = WorkerSettings(endpoint: options.broker.workersEndpoint, service: service, name: name)
        workerSettings.curve = curve
        workerSettings.heartbeatMs = options.heartbeatMs
        workerSettings.liveness = options.liveness
        let runtime = WorkerRuntime(settings: workerSettings, context: context, log: log)
        log(
            "serving '\(service)' at \(workerSettings.endpoint) (api \(api)\(curve == nil ? "" : ", CURVE"))"
                + (settings.map { ", model: \($0)" } ?? ", no model"))
        try runtime.run(stop: agentStopSignal) { job in
            let link = BrokerLink(endpoint: api, context: context, curve: curve)
            let jobContext = JobContext(job: job, link: link, modelSettings: settings, log: log)
            log("job \(job.jobId) (attempt \(job.attempt)) started")
            do throws(AgentError) {
                let result = try role.perform(job, jobContext)
                log("job \(job.jobId) done")
                return .success(result)
            } catch {
                log("job \(job.jobId) failed: \(error)")
                return .failure(error.description)
            }
        }
        log("stopped")
    }
}
