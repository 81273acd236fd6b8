import ArgumentParser
import BrokerClient
import BrokerProtocol
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "The broker's api endpoint (env BROKER_API; default tcp://127.0.0.1:5555).")
    var api: String?

    @Flag(help: "Print JSON for scripts instead of tables.")
    var json = false

    @Option(help: "Seconds to wait for each attempt of a request.")
    var timeout: Double = 5

    @Option(help: "Attempts, each on a fresh socket, before reporting the broker unreachable.")
    var retries: Int = 3

    var apiEndpoint: String {
        api ?? ProcessIO.environment("BROKER_API") ?? "tcp://127.0.0.1:5555"
    }

    /// Calls one method and returns its result.
    /// `atLeastSeconds` and `attempts` override the flags for requests that take long and must not be
    /// sent twice (a compaction).
    func call(
        _ method: String, _ params: JSONObject = JSONObject(), atLeastSeconds: Double = 0, attempts: Int? = nil
    ) throws -> JSON {
        guard timeout > 0, retries > 0 else { throw UsageError("--timeout and --retries must be positive") }
        let context = try ZMQContext()
        let client = RPCClient(
            endpoint: apiEndpoint, context: context, timeoutMs: Int(max(timeout, atLeastSeconds) * 1000),
            attempts: attempts ?? retries)
        return try client.call(method, params)
    }

    /// Prints `value` as JSON when `--json`, else calls `human`.
    func output(_ value: JSON, human: () -> Void) {
        if json { print(Pretty.json(value)) } else { human() }
    }
}
