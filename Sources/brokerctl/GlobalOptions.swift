import ArgumentParser
import BrokerClient
import BrokerProtocol
import CurveCertificates
import Synchronization
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Options every subcommand that talks to the broker takes, before or after its name (`ConnectionArguments`).
struct GlobalOptions: ParsableArguments {
    @Option(help: "The broker's api endpoint (env BROKER_API; default tcp://127.0.0.1:5555).")
    var api: String?

    @Option(help: "The broker's events endpoint (env BROKER_EVENTS; default tcp://127.0.0.1:5556).")
    var events: String?

    @Option(help: "This client's CURVE .key_secret file, for a broker with keys (env BROKER_CURVE_KEY).")
    var curveKey: String?

    @Option(help: "The broker's public CURVE .key file (env BROKER_CURVE_SERVER_KEY).")
    var curveServerKey: String?

    @Flag(help: "Print JSON for scripts instead of tables.")
    var json = false

    @Option(help: "Seconds to wait for each attempt of a request.")
    var timeout: Double = 5

    @Option(help: "Attempts, each on a fresh socket, before reporting the broker unreachable.")
    var retries: Int = 3

    var apiEndpoint: String {
        api ?? ProcessIO.environment("BROKER_API") ?? "tcp://127.0.0.1:5555"
    }

    var eventsEndpoint: String {
        events ?? ProcessIO.environment("BROKER_EVENTS") ?? "tcp://127.0.0.1:5556"
    }

    /// The CURVE keys from `--curve-key`/`--curve-server-key` or their variables; nil for a plain broker.
    func curveKeys() throws -> CurveClientKeys? {
        do {
            return try ClientKeys.load(keyFile: curveKey, serverKeyFile: curveServerKey) { warning in
                // Said once per run, however many connections a command makes.
                if !warnedAboutKeys.exchange(true, ordering: .relaxed) { printError("brokerctl: warning: \(warning)") }
            }
        } catch {
            throw UsageError("\(error)")
        }
    }

    /// A client on the api endpoint with these options' keys.
    func client(context: ZMQContext, timeoutMs: Int, attempts: Int) throws -> RPCClient {
        RPCClient(
            endpoint: apiEndpoint, context: context, timeoutMs: timeoutMs, attempts: attempts, curve: try curveKeys())
    }

    /// Calls one method and returns its result.
    /// `atLeastSeconds` and `attempts` override the flags for requests that take long and must not be
    /// sent twice (a compaction).
    func call(
        _ method: String, _ params: JSONObject = JSONObject(), atLeastSeconds: Double = 0, attempts: Int? = nil
    ) throws -> JSON {
        guard timeout > 0, retries > 0 else { throw UsageError("--timeout and --retries must be positive") }
        let context = try ZMQContext()
        let client = try client(
            context: context, timeoutMs: Int(max(timeout, atLeastSeconds) * 1000), attempts: attempts ?? retries)
        return try client.call(method, params)
    }

    /// Prints `value` as JSON when `--json`, else calls `human`.
    func output(_ value: JSON, human: () -> Void) {
        if json { print(Pretty.json(value)) } else { human() }
    }
}

private let warnedAboutKeys = Atomic<Bool>(false)

/// Lets the connection options come before the subcommand (`brokerctl --api X session ls`), as
/// `redis-cli -h HOST` and `kubectl --context` users expect.
///
/// swift-argument-parser accepts a subcommand's options only after its name, so the options found before
/// the first word that is not one of them are moved to just after the subcommand's full name, where
/// the subcommand's `GlobalOptions` parses them exactly as if they had been typed there.
enum ConnectionArguments {
    static let valued: Set<String> = ["--api", "--events", "--curve-key", "--curve-server-key", "--timeout", "--retries"]
    static let flags: Set<String> = ["--json"]

    static func reorder(_ arguments: [String], root: any ParsableCommand.Type) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if flags.contains(argument) {
                leading.append(argument)
                index += 1
            } else if valued.contains(argument), index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if argument.contains("="), valued.contains(name) {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        let rest = Array(arguments[index...])
        var command = root
        var depth = 0
        while depth < rest.count,
            let next = command.configuration.subcommands.first(where: { $0._commandName == rest[depth] })
        {
            command = next
            depth += 1
        }
        return Array(rest[..<depth]) + leading + Array(rest[depth...])
    }
}
