import BrokerClient
import BrokerServer
import CurveCertificates
import Logging
import SessionCore
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// What CURVE costs: the addMessage round trip (1 client) and 50-client throughput on a plain broker and on
/// a CURVE broker (ZAP handler, per-request authorization), started side by side in one run, with ratios.
///
/// With `api` (and optionally `curve`), measures that broker instead, for example a deployed secured one.
func runSecurityBench(context: ZMQContext, quick: Bool, api: String?, curve: CurveClientKeys?) throws {
    let roundTrips = quick ? 2_000 : 10_000
    let perClient = quick ? 200 : 2_000
    if let api {
        print("== broker at \(api)\(curve == nil ? "" : " (CURVE)") ==")
        let single = try measureAddMessageLatency(context: context, api: api, roundTrips: roundTrips, curve: curve)
        print(single.line("addMessage round trip, 1 client", floor: single.p50))
        print(try addMessageThroughput(api: api, clients: 50, messagesPerClient: perClient, floor: 1, curve: curve).line)
        return
    }
    let directory = makeTemporaryDirectory()
    defer {
        for name in ["plain.db", "curve.db"] {
            for suffix in ["", "-wal", "-shm", ".lock"] { unlink(directory + "/" + name + suffix) }
        }
        for file in ["broker.key", "broker.key_secret", "clients/bench.key"] { unlink(directory + "/" + file) }
        rmdir(directory + "/clients")
        rmdir(directory)
    }
    mkdir(directory + "/clients", 0o700)
    let server = try CurveCertificate.generate(metadata: [("name", "broker")])
    try server.save(directory: directory, name: "broker")
    let client = try CurveCertificate.generate(metadata: [("name", "bench")])
    try CurveCertificate(publicKey: client.publicKey, metadata: [("name", "bench"), ("role", "admin")])
        .savePublic(to: directory + "/clients/bench.key")
    let keys = CurveClientKeys(keys: client.keyPair!, serverKey: server.publicKey)

    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    func start(_ name: String, secured: Bool) throws -> Broker {
        var configuration = benchConfiguration(databasePath: directory + "/\(name).db")
        if secured {
            configuration.security.curveSecretKeyPath = directory + "/broker.key_secret"
            configuration.security.curveClientsDirectory = directory + "/clients"
        }
        let broker = Broker(configuration: configuration, logger: logger)
        try broker.start()
        return broker
    }
    let plain = try start("plain", secured: false)
    let secured = try start("curve", secured: true)
    defer {
        plain.stop()
        secured.stop()
    }
    print("\n== CURVE: the same broker with and without keys (sync normal) ==")
    // Alternate the two, twice, so neither gets the warmer machine; report the better of each.
    var plainRoundTrip: [Latencies] = [], curveRoundTrip: [Latencies] = []
    var plainRate: [Double] = [], curveRate: [Double] = []
    for _ in 0..<2 {
        plainRoundTrip.append(
            try measureAddMessageLatency(context: context, api: plain.endpoints!.api, roundTrips: roundTrips))
        curveRoundTrip.append(
            try measureAddMessageLatency(
                context: context, api: secured.endpoints!.api, roundTrips: roundTrips, curve: keys))
        plainRate.append(
            try addMessageThroughput(api: plain.endpoints!.api, clients: 50, messagesPerClient: perClient, floor: 1).rate)
        curveRate.append(
            try addMessageThroughput(
                api: secured.endpoints!.api, clients: 50, messagesPerClient: perClient, floor: 1, curve: keys
            ).rate)
    }
    let plainBest = plainRoundTrip.min { $0.p50 < $1.p50 }!
    let curveBest = curveRoundTrip.min { $0.p50 < $1.p50 }!
    print(plainBest.line("addMessage round trip, 1 client, plain", floor: plainBest.p50))
    print(curveBest.line("addMessage round trip, 1 client, CURVE", floor: plainBest.p50))
    print("  CURVE / plain p50: \(format(curveBest.p50 / plainBest.p50))x (target at most 1.3x)")
    let bestPlainRate = plainRate.max()!, bestCurveRate = curveRate.max()!
    print("addMessage throughput, 50 clients, plain: \(Int(bestPlainRate)) messages/s")
    print(
        "addMessage throughput, 50 clients, CURVE: \(Int(bestCurveRate)) messages/s "
            + "(\(format(bestCurveRate / bestPlainRate)) of plain; plain / CURVE time per message "
            + "\(format(bestPlainRate / bestCurveRate))x)")
}
