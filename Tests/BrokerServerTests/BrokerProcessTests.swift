import BrokerClient
import BrokerProtocol
import Foundation
import Testing
import ZeroMQ

/// The real `broker` executable: signals, kill -9, restart.
@Suite("broker process")
struct BrokerProcessTests {
    /// A broker process on ipc endpoints in its own folder.
    ///
    /// `@unchecked Sendable`: writer threads only read `api` and `context` (both immutable and safe);
    /// `process` is only touched by the test's own thread.
    final class BrokerProcess: @unchecked Sendable {
        let directory: String
        let api: String
        var process: Process?
        let context: ZMQContext

        init(directory: String = TestBroker.makeDirectory()) throws {
            self.directory = directory
            api = "ipc://\(directory)/api.sock"
            context = try ZMQContext()
        }

        /// Starts the broker with `arguments` after its endpoints and database, and waits until it answers
        /// (with `curve` keys, for a secured broker).
        func start(
            environment: [String: String] = [:], arguments: [String] = [], curve: CurveClientKeys? = nil
        ) throws {
            process = try Processes.start(
                "broker",
                [
                    "--api", api, "--events", "ipc://\(directory)/events.sock", "--workers",
                    "ipc://\(directory)/workers.sock",
                    "--db", directory + "/broker.db",
                ] + arguments, logFile: directory + "/broker.log", environment: environment)
            let client = RPCClient(endpoint: api, context: context, timeoutMs: 200, attempts: 1, curve: curve)
            for _ in 0..<100 {
                if (try? client.call("broker:ping")) != nil { return }
                usleep(50_000)
            }
            throw TestFailure("the broker did not answer: \(log)")
        }

        var log: String { (try? String(contentsOfFile: directory + "/broker.log", encoding: .utf8)) ?? "" }

        func client(timeoutMs: Int = 2_000) -> RPCClient {
            RPCClient(endpoint: api, context: context, timeoutMs: timeoutMs, attempts: 1)
        }

        /// kill -9, then waits for the process to be gone.
        func killNine() throws {
            let process = try #require(process)
            kill(process.processIdentifier, SIGKILL)
            #expect(Processes.waitForExit(process, timeout: 10))
        }

        /// SIGTERM, then waits up to 15 s for the exit.
        func stop() {
            process?.terminate()
            _ = process.map { Processes.waitForExit($0, timeout: 15) }
        }
    }

    @Test("SIGTERM: stops taking requests, commits, closes the database, exits 0")
    func gracefulStop() throws {
        let broker = try BrokerProcess()
        try broker.start()
        let client = broker.client()
        let id = try #require(
            try client.call("session:create", ["type": "dev", "featureId": "f"])["sessionId"]?.stringValue)
        _ = try client.call("session:addMessage", ["sessionId": .string(id), "role": "user", "content": "before stop"])
        let process = try #require(broker.process)
        process.terminate()
        #expect(Processes.waitForExit(process, timeout: 15))
        #expect(process.terminationStatus == 0)
        #expect(broker.log.contains("database closed"))
        // The WAL was checkpointed into the database file at shutdown.
        let wal =
            (try? FileManager.default.attributesOfItem(atPath: broker.directory + "/broker.db-wal")[.size] as? Int) ?? 0
        #expect(wal == 0)
        try broker.start()
        let messages = try broker.client().call("session:getMessages", ["sessionId": .string(id)])
        #expect(messages["messages"]?.arrayValue?.first?["content"] == "before stop")
        broker.stop()
    }

    @Test("kill -9 with a queued and a running job, then restart: both are dispatched again and complete")
    func killNineKeepsJobs() throws {
        let broker = try BrokerProcess()
        try broker.start()
        let workers = "ipc://\(broker.directory)/workers.sock"
        let client = broker.client()
        let first = try RawWorker(endpoint: workers, context: broker.context, service: "svc")
        _ = try client.call("job:submit", ["service": "svc", "jobId": "running"])
        #expect(try first.nextRequest()?.jobId == "running")
        _ = try client.call("job:submit", ["service": "svc", "jobId": "queued"])
        for _ in 0..<100 where try client.call("job:get", ["jobId": "running"])["state"]?.stringValue != "running" {
            usleep(20_000)
        }
        try broker.killNine()

        try broker.start()
        defer { broker.stop() }
        let second = try RawWorker(endpoint: workers, context: broker.context, service: "svc")
        var attempts: [String: Int64] = [:]
        for _ in 0..<2 {
            let request = try #require(try second.nextRequest())
            attempts[request.jobId] = request.body["attempt"]?.intValue
            try second.reply(request.jobId, result: "ok")
        }
        #expect(attempts == ["running": 2, "queued": 1])
        let done = try broker.client(timeoutMs: 15_000).call("job:wait", ["jobId": "queued", "timeoutMs": 10_000])
        #expect(done["state"]?.stringValue == "completed")
    }

    @Test("kill -9 during an import, then restart: its spool is deleted, another database's spool is kept")
    func killNineDuringImport() throws {
        let broker = try BrokerProcess()
        try broker.start()
        let client = broker.client()
        let importId = try #require(try client.call("import:begin", ["kind": "backup"])["importId"]?.stringValue)
        _ = try client.call("import:write", ["importId": .string(importId), "seq": 0, "data": "{\"formatVersion\": 2"])
        let spools = { () throws -> [String] in
            try FileManager.default.contentsOfDirectory(atPath: broker.directory).filter { $0.hasSuffix(".spool") }
                .sorted()
        }
        #expect(try spools() == ["broker.db.\(importId).spool"])
        // A spool of another broker's database in the same folder is not this broker's to delete.
        let other = "other.db.imp_01m00000000000000000000000.spool"
        #expect(FileManager.default.createFile(atPath: broker.directory + "/" + other, contents: Data("{".utf8)))
        try broker.killNine()

        try broker.start()
        defer { broker.stop() }
        #expect(try spools() == [other])
        #expect(broker.log.contains("deleted 1 import spool(s)"))
        let gone = try? broker.client().call("import:commit", ["importId": .string(importId)])
        #expect(gone == nil)
    }

    @Test("kill -9 while 6 clients write, then restart: every acknowledged message is there exactly once")
    func killNineLosesNothingAcknowledged() throws {
        let broker = try BrokerProcess()
        try broker.start()
        let setup = broker.client()
        let writers = 6
        let sessions = try (0..<writers).map { index in
            try #require(
                try setup.call("session:create", ["type": "dev", "featureId": .string("kill-\(index)")])["sessionId"]?
                    .stringValue)
        }
        let acknowledged = AckLog()
        let stop = Counter()
        let threads = (0..<writers).map { index in
            Thread {
                let client = broker.client(timeoutMs: 500)
                var n = 0
                while stop.value == 0 {
                    let messageId = "w\(index)-\(n)"
                    if (try? client.call(
                        "session:addMessage",
                        [
                            "sessionId": .string(sessions[index]), "role": "user", "content": .string("payload \(n)"),
                            "messageId": .string(messageId),
                        ])) != nil
                    {
                        acknowledged.add(index, messageId)
                    }
                    n += 1
                }
                stop.add()
            }
        }
        threads.forEach { $0.start() }
        usleep(700_000)
        try broker.killNine()
        stop.add()
        while stop.value < writers + 1 { usleep(10_000) }
        #expect(acknowledged.total > 0)

        try broker.start()
        let reader = broker.client(timeoutMs: 5_000)
        for (index, id) in sessions.enumerated() {
            let page = try reader.call("session:getMessages", ["sessionId": .string(id), "limit": 50_000])
            let stored = page["messages"]?.arrayValue?.compactMap { $0["messageId"]?.stringValue } ?? []
            #expect(Set(stored).count == stored.count, "no message stored twice")
            #expect(Set(acknowledged.ids(index)).isSubset(of: Set(stored)), "every acknowledged message survived")
            let seqs = page["messages"]?.arrayValue?.compactMap { $0["seq"]?.intValue } ?? []
            #expect(seqs == (0..<seqs.count).map { Int64($0 + 1) }, "sequence numbers have no gaps")
        }
        broker.stop()
    }

    @Test("without its ranks file the broker runs on labelled approximate counts, and says so")
    func approximateFallback() throws {
        let broker = try BrokerProcess()
        try broker.start(environment: ["AGENTBROKER_TOKEN_RANKS": broker.directory + "/missing.tiktoken"])
        let client = broker.client()
        let id = try #require(
            try client.call("session:create", ["type": "dev", "featureId": "f"])["sessionId"]?.stringValue)
        let added = try client.call(
            "session:addMessage", ["sessionId": .string(id), "role": "user", "content": "hello"])
        #expect((added["tokens"]?.intValue ?? 0) > 0)
        #expect(try client.call("session:estimateSize", ["sessionId": .string(id)])["exact"] == false)
        #expect(broker.log.contains("APPROXIMATE"))
        broker.stop()
    }

    @Test("bad configuration and a database in use fail at start with a clear message")
    func startFailures() throws {
        let bad = try Processes.run("broker", ["--sync", "sometimes"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("sync must be 'normal' or 'full'"))
        let broker = try BrokerProcess()
        try broker.start()
        let second = try Processes.run(
            "broker",
            [
                "--api", "ipc://\(broker.directory)/other.sock", "--events",
                "ipc://\(broker.directory)/other-events.sock",
                "--db", broker.directory + "/broker.db",
            ], timeout: 20)
        #expect(second.status == 1)
        #expect(second.stderr.contains("in use by another broker"))
        broker.stop()
    }
}

/// Acknowledged message ids per writer.
final class AckLog: @unchecked Sendable {
    // @unchecked Sendable: `byWriter` is guarded by `lock`.
    private let lock = NSLock()
    private var byWriter: [Int: [String]] = [:]
    func add(_ writer: Int, _ id: String) { lock.lock(); byWriter[writer, default: []].append(id); lock.unlock() }
    func ids(_ writer: Int) -> [String] { lock.lock(); defer { lock.unlock() }; return byWriter[writer] ?? [] }
    var total: Int { lock.lock(); defer { lock.unlock() }; return byWriter.values.map(\.count).reduce(0, +) }
}
