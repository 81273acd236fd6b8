import BrokerServer
import Logging
import SessionCore
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// broker-bench: prints latency and throughput figures for the broker over real ZeroMQ sockets,
// next to a bare libzmq REQ/REP echo measured in the same run (the floor). Never asserts on time.
//
//   swift run -c release broker-bench [--sync normal|full|both] [--quick]

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let quick = arguments.contains("--quick")
let modes: [SyncMode] = {
    switch option("--sync") ?? "both" {
    case "normal": [.normal]
    case "full": [.full]
    default: [.normal, .full]
    }
}()
let scale = quick ? 0.1 : 1.0

print("broker-bench: libzmq \(ZMQContext.version), transport tcp loopback, \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores")
let context = try ZMQContext(ioThreads: 1)
let floor = try measureEchoFloor(context: context, roundTrips: Int(20_000 * scale))
print(floor.line("floor: bare REQ/REP echo", floor: floor.p50))

for mode in modes {
    let directory = makeTemporaryDirectory()
    var configuration = BrokerConfiguration()
    configuration.apiEndpoint = "tcp://127.0.0.1:*"
    configuration.eventsEndpoint = "tcp://127.0.0.1:*"
    configuration.databasePath = directory + "/bench.db"
    configuration.syncMode = mode
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    let broker = Broker(configuration: configuration, logger: logger)
    let endpoints = try broker.start()
    print("\n== sync \(mode.rawValue) ==")
    let single = try measureAddMessageLatency(context: context, api: endpoints.api, roundTrips: Int(10_000 * scale))
    print(single.line("addMessage round trip, 1 client", floor: floor.p50))
    for clients in [8, 50] {
        let perClient = max(20, Int(Double(mode == .full ? 400 : 2_000) * scale))
        let throughput = try measureAddMessageThroughput(
            api: endpoints.api, clients: clients, messagesPerClient: perClient)
        print(throughput)
    }
    let read = try measureGetMessages(context: context, api: endpoints.api, messages: 10_000, reads: quick ? 5 : 30)
    print(read.line("getMessages of 10,000 messages", floor: floor.p50))
    broker.stop()
    removeDirectory(directory)
}
