import BrokerClient
import BrokerServer
import CSystem
import Logging
import SessionCore
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

// broker-bench: prints latency and throughput figures for the broker over real ZeroMQ sockets,
// next to a bare libzmq REQ/REP echo measured in the same run (the floor). Never asserts on time.
//
//   swift run -c release broker-bench [--sync normal|full|both] [--quick] [--only requests|jobs|throughput|store|read|portability [--messages N]]
//   swift run -c release broker-bench --only security [--api ENDPOINT [--curve-key FILE --curve-server-key FILE]]
//     (CURVE against plain in one run; with --api, a running broker, with keys from the flags or BROKER_CURVE_KEY
//     and BROKER_CURVE_SERVER_KEY)

// Large reply buffers come from the heap and are reused, instead of fresh zeroed pages from mmap each time.
csystem_keep_large_allocations_in_heap()

let arguments = CommandLine.arguments
if arguments.contains("--help") || arguments.contains("-h") {
    print(
        """
        usage: broker-bench [--sync normal|full|both] [--quick]
                            [--only requests|jobs|throughput|store|read|portability|security] [--messages N]
                            [--api ENDPOINT --curve-key FILE --curve-server-key FILE]   (with --only security)
        Prints latency and throughput figures over real ZeroMQ sockets next to a bare libzmq floor.
        """)
    exit(0)
}
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
/// `--only throughput` runs just the 50-client throughput phase (for profiling).
let only = option("--only")

if only == "portability" {
    let messages = option("--messages").flatMap { Int($0) } ?? 1_000_000
    try runPortabilityBench(messages: messages)
    exit(0)
}
if only == "read" {
    let directory = makeTemporaryDirectory()
    let ms = try measureStoreRead(
        directory: directory, messages: 10_000, counter: TokenCounterLoader.loadDefault().counter)
    print("store only: getMessages of 10,000 messages serialized in \(format(ms)) ms (median)")
    exit(0)
}
if only == "store" {
    let shapes =
        option("--shape").map { text in
            let parts = text.split(separator: "x").compactMap { Int($0) }
            return [(parts[0], parts[1])]
        } ?? [(1, 1), (5, 50), (50, 50), (50, 1)]
    for (batch, sessions) in shapes {
        let counters: [(String, any TokenCounter)] =
            arguments.contains("--approximate")
            ? [("approximate", ApproximateTokenCounter())] : [("exact", TokenCounterLoader.loadDefault().counter)]
        for (name, counter) in counters {
            let directory = makeTemporaryDirectory()
            let perWrite = try measureStoreWrites(
                directory: directory, sessions: sessions, batch: batch, total: 20_000, counter: counter)
            print(
                "store only: batch \(batch), \(sessions) sessions, \(name) counts: \(format(perWrite)) us per addMessage"
            )
            for suffix in ["", "-wal", "-shm", ".lock"] { unlink(directory + "/store.db" + suffix) }
            rmdir(directory)
        }
    }
    exit(0)
}

if only == "security" {
    let curve = try ClientKeys.load(keyFile: option("--curve-key"), serverKeyFile: option("--curve-server-key")) {
        print("warning: \($0)")
    }
    try runSecurityBench(context: try ZMQContext(ioThreads: 1), quick: quick, api: option("--api"), curve: curve)
    exit(0)
}

if only == "requests" || only == "jobs" {
    let context = try ZMQContext(ioThreads: 1)
    let floor = try measureEchoFloor(context: context, roundTrips: Int(20_000 * scale))
    print(floor.line("floor: bare REQ/REP echo", floor: floor.p50))
    let run = only == "jobs" ? runJobBench : runRequestBench
    try run(context, floor.p50, quick)
    exit(0)
}

print(
    "broker-bench: libzmq \(ZMQContext.version), transport tcp loopback, \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores")
let context = try ZMQContext(ioThreads: 1)
let floor = try measureEchoFloor(context: context, roundTrips: Int(20_000 * scale))
print(floor.line("floor: bare REQ/REP echo", floor: floor.p50))
var echoRates: [Int: Double] = [:]
for clients in only == nil ? [8, 50] : [50] {
    let perClient = max(20, Int(2_000 * scale))
    let line = try measureEchoThroughput(clients: clients, messagesPerClient: perClient)
    echoRates[clients] = Double(line.split(separator: " ").dropLast(1).last.flatMap { Double($0) } ?? 1)
    print(line)
}

for mode in modes {
    let directory = makeTemporaryDirectory()
    var configuration = benchConfiguration(databasePath: directory + "/bench.db")
    configuration.syncMode = mode
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    let broker = Broker(configuration: configuration, logger: logger)
    let endpoints = try broker.start()
    print("\n== sync \(mode.rawValue) ==")
    if only == nil {
        let single = try measureAddMessageLatency(context: context, api: endpoints.api, roundTrips: Int(10_000 * scale))
        print(single.line("addMessage round trip, 1 client", floor: floor.p50))
    }
    for clients in only == nil ? [8, 50] : [50] {
        let perClient = max(20, Int(Double(mode == .full ? 400 : 2_000) * scale))
        let before = threadCPU()
        let throughput = try measureAddMessageThroughput(
            api: endpoints.api, clients: clients, messagesPerClient: perClient, floor: echoRates[clients] ?? 1)
        print(throughput)
        print(
            "  CPU us per message by thread: "
                + cpuPerMessage(before: before, after: threadCPU(), messages: clients * perClient))
        var wal = stat()
        if stat(configuration.databasePath + "-wal", &wal) == 0 { print("  WAL size now: \(wal.st_size / 1024) KiB") }
    }
    if only == nil {
        let read = try measureGetMessages(context: context, api: endpoints.api, messages: 10_000, reads: quick ? 5 : 30)
        print(read.line("getMessages of 10,000 messages", floor: floor.p50))
    }
    broker.stop()
    removeDirectory(directory)
}
if only == nil {
    try runRequestBench(context: context, floor: floor.p50, quick: quick)
    try runJobBench(context: context, floor: floor.p50, quick: quick)
    try runSecurityBench(context: context, quick: quick, api: nil, curve: nil)
}
