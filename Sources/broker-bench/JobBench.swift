import BrokerClient
import BrokerProtocol
import BrokerServer
import Foundation
import Logging
import ZeroMQ

/// A broker on ephemeral loopback ports over `databasePath`, as every bench scenario starts one.
func benchConfiguration(databasePath: String) -> BrokerConfiguration {
    var configuration = BrokerConfiguration()
    configuration.apiEndpoint = "tcp://127.0.0.1:*"
    configuration.eventsEndpoint = "tcp://127.0.0.1:*"
    configuration.workersEndpoint = "tcp://127.0.0.1:*"
    configuration.databasePath = databasePath
    return configuration
}

/// Jobs through the workers endpoint: in-process 7/MDP workers (WorkerRuntime) that answer at once.
///
/// Prints the p50/p99 of one job's whole trip (job:submit, dispatch, REPLY, job:wait answered) with
/// one worker, and jobs per second with 4 workers and 400 jobs submitted at once, next to the echo floor.
func runJobBench(context: ZMQContext, floor: Double, quick: Bool) throws {
    let directory = makeTemporaryDirectory()
    defer { removeDirectory(directory) }
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    let broker = Broker(configuration: benchConfiguration(databasePath: directory + "/jobs.db"), logger: logger)
    let endpoints = try broker.start()
    defer { broker.stop() }
    print("\n== jobs through workers ==")
    let stop = Wakeup()
    var threads: [Thread] = []
    for index in 0..<4 {
        let thread = Thread {
            let runtime = WorkerRuntime(
                settings: WorkerSettings(endpoint: endpoints.workers, service: "bench", name: "bench-\(index)"),
                context: context, log: { _ in })
            try? runtime.run(stop: stop) { job in .success(job.payload) }
        }
        thread.start()
        threads.append(thread)
    }
    defer { stop.signal() }
    let req = try ZMQSocket(context: context, type: .req)
    try req.connect(endpoints.api)
    while (try call(req, "worker:list", [:])["workers"]?.arrayValue?.count ?? 0) < 4 { usleep(10_000) }

    var trips = Latencies(samples: [])
    let count = quick ? 200 : 2_000
    for index in 0..<count {
        let start = nowMicros()
        let jobId = "trip-\(index)"
        _ = try call(req, "job:submit", ["service": "bench", "jobId": .string(jobId), "payload": .int(Int64(index))])
        let done = try call(req, "job:wait", ["jobId": .string(jobId), "timeoutMs": 10_000])
        guard done["state"]?.stringValue == "completed" else { throw BenchError("job \(jobId): \(done)") }
        trips.samples.append(nowMicros() - start)
    }
    print(trips.line("one job: submit, dispatch, reply, wait (2 round trips)", floor: floor))

    let batch = quick ? 100 : 400
    let dealer = try ZMQSocket(context: context, type: .dealer)
    try dealer.connect(endpoints.api)
    let start = nowMicros()
    for index in 0..<batch {
        let params: JSONObject = ["service": "bench", "jobId": .string("many-\(index)"), "payload": .int(Int64(index))]
        try dealer.send([[], RPCRequest(id: .int(Int64(index)), method: "job:submit", params: params).frame])
    }
    for _ in 0..<batch { _ = try dealer.receive() }
    for index in 0..<batch {
        let done = try call(req, "job:wait", ["jobId": .string("many-\(index)"), "timeoutMs": 30_000])
        guard done["state"]?.stringValue == "completed" else { throw BenchError("job many-\(index): \(done)") }
    }
    let seconds = (nowMicros() - start) / 1_000_000
    print("\(batch) jobs submitted at once, 4 workers: \(format(Double(batch) / seconds)) jobs/s (all completed)")
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
