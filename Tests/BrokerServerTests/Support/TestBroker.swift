import BrokerClient
import BrokerProtocol
import BrokerServer
import Foundation
import Logging
import Testing
import ZeroMQ

/// A real broker on ephemeral tcp ports over a fresh SQLite file, stopped when released.
final class TestBroker: Sendable {
    let directory: String
    let broker: Broker
    let endpoints: BoundEndpoints
    let context: ZMQContext
    /// The keys `client()` and `call` use, for a broker with CURVE; nil speaks plain.
    let curve: CurveClientKeys?

    init(
        configure: (inout BrokerConfiguration) -> Void = { _ in }, directory: String? = nil,
        curve: CurveClientKeys? = nil
    ) throws {
        self.curve = curve
        self.directory = directory ?? TestBroker.makeDirectory()
        var configuration = BrokerConfiguration()
        configuration.apiEndpoint = "tcp://127.0.0.1:*"
        configuration.eventsEndpoint = "tcp://127.0.0.1:*"
        configuration.workersEndpoint = "tcp://127.0.0.1:*"
        // Fast heartbeats so lost workers are noticed within a second.
        configuration.dispatch.heartbeatMs = 200
        configuration.databasePath = self.directory + "/broker.db"
        configure(&configuration)
        var logger = Logger(label: "test-broker")
        logger.logLevel = .error
        broker = Broker(configuration: configuration, logger: logger)
        endpoints = try broker.start()
        context = try ZMQContext()
    }

    deinit { broker.stop() }

    static func makeDirectory() -> String {
        let path = NSTemporaryDirectory() + "broker-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A client with a short time-out so a broken test fails fast.
    func client(timeoutMs: Int = 5_000) -> RPCClient {
        RPCClient(endpoint: endpoints.api, context: context, timeoutMs: timeoutMs, attempts: 1, curve: curve)
    }

    /// Calls and returns the result, or throws.
    @discardableResult
    func call(_ method: String, _ params: JSONObject = [:]) throws -> JSON {
        try client().call(method, params)
    }

    /// Calls and returns the error the broker answered (fails the test if it answered a result).
    func error(_ method: String, _ params: JSONObject = [:]) throws -> RPCError {
        let result: JSON
        do {
            result = try client().call(method, params)
        } catch {
            guard case .rpc(let rpcError) = error else { throw error }
            return rpcError
        }
        throw TestFailure("expected an error from \(method), got \(result.serializedString)")
    }

    func createSession(type: String = "dev", feature: String = "feature-1", extra: JSONObject = [:]) throws -> String {
        var params: JSONObject = ["type": .string(type), "featureId": .string(feature)]
        for (key, value) in extra { params[key] = value }
        return try #require(try call("session:create", params)["sessionId"]?.stringValue)
    }

    /// Sends raw frames on a fresh DEALER and returns the parsed reply (nil on time-out).
    func raw(_ frames: [ZMQFrame], timeoutMs: Int = 3_000) throws -> JSON? {
        guard let reply = try client().sendRaw(frames, timeoutMs: timeoutMs), let body = reply.last else { return nil }
        return try JSONParser.parse(body)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
