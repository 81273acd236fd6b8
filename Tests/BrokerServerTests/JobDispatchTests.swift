import BrokerProtocol
import Foundation
import Testing
import ZeroMQ

/// Jobs through the workers endpoint: 7/MDP frames on real sockets, heartbeats, re-queues, restarts.
@Suite("jobs and workers")
struct JobDispatchTests {
    @Test("a job waits for a worker, goes to it in a REQUEST, and its REPLY completes it")
    func dispatchAndReply() throws {
        let broker = try TestBroker()
        let submitted = try broker.call(
            "job:submit", ["service": "echo", "payload": ["text": "hi"], "jobId": "job-1"])
        #expect(submitted["state"]?.stringValue == "queued")
        #expect(submitted["created"]?.boolValue == true)
        let early = try broker.waitForJob("job-1", timeoutMs: 200)
        #expect(early["done"]?.boolValue == false)
        #expect(early["state"]?.stringValue == "queued")

        let worker = try RawWorker(broker, service: "echo")
        let request = try #require(try worker.nextRequest())
        #expect(request.jobId == "job-1")
        #expect(request.body["payload"]?["text"]?.stringValue == "hi")
        #expect(request.body["attempt"]?.intValue == 1)
        let seen = try broker.call("job:get", ["jobId": "job-1"])
        #expect(seen["state"]?.stringValue == "running", "\(seen)")
        try worker.reply("job-1", result: ["echo": "hi"])
        let done = try broker.waitForJob("job-1")
        #expect(done["done"]?.boolValue == true)
        #expect(done["state"]?.stringValue == "completed")
        #expect(done["result"]?["echo"]?.stringValue == "hi")
        #expect(done["attempts"]?.intValue == 1)

        let topics = try broker.events("job:").map { $0.text("topic") }
        #expect(topics == ["job:queued", "job:started", "job:completed"])
        #expect(try broker.events("worker:attached").count == 1)
        let again = try broker.call("job:submit", ["service": "echo", "jobId": "job-1"])
        #expect(again["created"]?.boolValue == false)
        #expect(again["state"]?.stringValue == "completed")
        #expect(try broker.error("job:submit", ["service": "other", "jobId": "job-1"]).kind == .conflict)
    }

    @Test("a pipelined job:submit then job:wait on one DEALER: the wait finds the job")
    func pipelinedSubmitAndWait() throws {
        let broker = try TestBroker()
        let socket = try ZMQSocket(context: broker.context, type: .dealer)
        defer { socket.close() }
        try socket.connect(broker.endpoints.api)
        try socket.send([[], RPCRequest(id: 1, method: "job:submit", params: ["service": "s", "jobId": "p"]).frame])
        try socket.send([[], RPCRequest(id: 2, method: "job:wait", params: ["jobId": "p", "timeoutMs": 100]).frame])
        try socket.setReceiveTimeout(milliseconds: 5_000)
        var replies: [Int64: JSON] = [:]
        for _ in 0..<2 {
            let reply = try JSONParser.parse(try #require(try socket.receive()?.last))
            replies[reply["id"]?.intValue ?? 0] = reply
        }
        #expect(replies[1]?["result"]?["created"]?.boolValue == true)
        #expect(replies[2]?["error"] == nil)
        #expect(replies[2]?["result"]?["state"]?.stringValue == "queued")
    }

    @Test("jobs go to the least recently used idle worker of their service")
    func leastRecentlyUsed() throws {
        let broker = try TestBroker()
        let first = try RawWorker(broker, service: "svc", name: "first")
        try broker.waitForWorkers("svc", count: 1)
        let second = try RawWorker(broker, service: "svc", name: "second")
        try broker.waitForWorkers("svc", count: 2)
        try broker.call("job:submit", ["service": "svc", "jobId": "a"])
        #expect(try first.nextRequest()?.jobId == "a")
        try first.reply("a", result: nil)
        _ = try broker.waitForJob("a")
        // `first` is now the most recently used: `second` takes the next job, then `first` the one after.
        try broker.call("job:submit", ["service": "svc", "jobId": "b"])
        #expect(try second.nextRequest()?.jobId == "b")
        try broker.call("job:submit", ["service": "svc", "jobId": "c"])
        #expect(try first.nextRequest()?.jobId == "c")
        let workers = try broker.call("worker:list")["workers"]?.arrayValue ?? []
        #expect(workers.count == 2)
        #expect(workers.allSatisfy { $0["state"]?.stringValue == "busy" })
    }

    @Test("a job for a service with no worker fails at its time-out with the reason")
    func noWorker() throws {
        let broker = try TestBroker()
        try broker.call("job:submit", ["service": "nobody", "jobId": "lonely", "timeoutMs": 1_000])
        let services = try broker.call("worker:list")["services"]?.arrayValue ?? []
        #expect(services.first?["queued"]?.intValue == 1)
        let job = try broker.waitForJob("lonely", timeoutMs: 5_000)
        #expect(job["state"]?.stringValue == "failed")
        #expect(job.text("error").contains("waiting for a 'nobody' worker"))
        #expect(try broker.events("job:failed").count == 1)
    }

    @Test("a worker that stops heartbeating is dropped and its job completes on another")
    func lostWorkerRequeues() throws {
        let broker = try TestBroker()
        let silent = try RawWorker(broker, service: "svc", name: "silent")
        try broker.waitForWorkers("svc", count: 1)
        try broker.call("job:submit", ["service": "svc", "jobId": "j", "maxAttempts": 2])
        #expect(try silent.nextRequest()?.jobId == "j")
        // `silent` now says nothing more; a second worker keeps heartbeating and gets the job.
        let healthy = try RawWorker(broker, service: "svc", name: "healthy")
        let retried = try #require(try healthy.nextRequest(timeoutMs: 5_000))
        #expect(retried.jobId == "j")
        #expect(retried.body["attempt"]?.intValue == 2)
        try healthy.reply("j", result: "done")
        let job = try broker.waitForJob("j")
        #expect(job["state"]?.stringValue == "completed")
        #expect(job["attempts"]?.intValue == 2)
        let detached = try broker.events("worker:detached")
        #expect(detached.contains { $0.text("reason") == "heartbeat lost" && $0.text("name") == "silent" })
        #expect(try broker.events("job:queued").contains { $0.text("reason") == "worker lost" })
    }

    @Test("a job whose last attempt loses its worker fails, naming the worker")
    func lostWorkerLastAttempt() throws {
        let broker = try TestBroker()
        let silent = try RawWorker(broker, service: "svc")
        try broker.waitForWorkers("svc", count: 1)
        try broker.call("job:submit", ["service": "svc", "jobId": "once", "maxAttempts": 1])
        #expect(try silent.nextRequest()?.jobId == "once")
        let job = try broker.waitForJob("once", timeoutMs: 5_000)
        #expect(job["state"]?.stringValue == "failed")
        #expect(job.text("error").contains("was lost during attempt 1 of 1"))
    }

    @Test("malformed worker frames get DISCONNECT; the broker keeps serving and re-queues the job held")
    func malformedFrames() throws {
        let broker = try TestBroker()
        func expectDisconnect(_ frames: [ZMQFrame], _ label: String) throws {
            let socket = try ZMQSocket(context: broker.context, type: .dealer)
            defer { socket.close() }
            try socket.connect(broker.endpoints.workers)
            try socket.send(frames)
            try socket.setReceiveTimeout(milliseconds: 3_000)
            let reply = try socket.receive()
            #expect(reply.flatMap { Majordomo.parse($0[...])?.0 } == .disconnect, "\(label)")
        }
        try expectDisconnect([Array("garbage".utf8)], "one garbage frame")
        try expectDisconnect([[], Array("MDPC01".utf8), [0x01], Array("svc".utf8)], "a client protocol header")
        try expectDisconnect(Majordomo.frames(.ready), "READY without a service")
        try expectDisconnect([[], Majordomo.workerProtocol, [0x09]], "an unknown command")
        try expectDisconnect(Majordomo.frames(.reply, [Array("x".utf8), [], Array("{}".utf8)]), "REPLY unregistered")

        let twice = try RawWorker(broker, service: "svc")
        try twice.send(.ready, [Array("svc".utf8)])
        #expect(try twice.next()?.0 == .disconnect)

        let liar = try RawWorker(broker, service: "svc", name: "liar")
        try broker.waitForWorkers("svc", count: 1)
        try broker.call("job:submit", ["service": "svc", "jobId": "held", "maxAttempts": 3])
        #expect(try liar.nextRequest()?.jobId == "held")
        try liar.send(.reply, [Array("held".utf8), [], Array("not json".utf8)])
        #expect(try liar.next()?.0 == .disconnect)
        let good = try RawWorker(broker, service: "svc", name: "good")
        #expect(try good.nextRequest()?.jobId == "held")
        try good.reply("held", result: 1)
        #expect(try broker.waitForJob("held")["state"]?.stringValue == "completed")
        #expect(try broker.events("worker:detached").filter { $0.text("reason") == "protocol error" }.count == 2)
        #expect(try broker.call("broker:ping")["version"] != nil)
    }

    @Test("a broker restart keeps queued and running jobs; running ones are dispatched again")
    func restartKeepsJobs() throws {
        let directory = TestBroker.makeDirectory()
        do {
            let broker = try TestBroker(directory: directory)
            let worker = try RawWorker(broker, service: "svc")
            try broker.waitForWorkers("svc", count: 1)
            try broker.call("job:submit", ["service": "svc", "jobId": "running"])
            #expect(try worker.nextRequest()?.jobId == "running")
            try broker.call("job:submit", ["service": "svc", "jobId": "queued"])
            // Wait until the dispatch of "running" is stored, then stop with both jobs unfinished.
            for _ in 0..<100 where try broker.call("job:get", ["jobId": "running"])["state"]?.stringValue != "running" {
                usleep(20_000)
            }
            broker.broker.stop()
        }
        let restarted = try TestBroker(directory: directory)
        #expect(try restarted.call("job:get", ["jobId": "queued"])["state"]?.stringValue == "queued")
        let worker = try RawWorker(restarted, service: "svc")
        var seen: [String: Int64] = [:]
        for _ in 0..<2 {
            let request = try #require(try worker.nextRequest())
            seen[request.jobId] = request.body["attempt"]?.intValue
            try worker.reply(request.jobId, result: "ok")
        }
        #expect(seen == ["running": 2, "queued": 1])
        #expect(try restarted.waitForJob("running")["state"]?.stringValue == "completed")
        #expect(try restarted.waitForJob("queued")["state"]?.stringValue == "completed")
        #expect(try restarted.events("job:queued").contains { $0.text("reason") == "broker restart" })
    }

    @Test("cancel: a queued job ends cancelled, a running one's late reply is dropped, finished ones conflict")
    func cancel() throws {
        let broker = try TestBroker()
        try broker.call("job:submit", ["service": "svc", "jobId": "q"])
        #expect(try broker.call("job:cancel", ["jobId": "q"])["state"]?.stringValue == "cancelled")
        #expect(try broker.waitForJob("q")["done"]?.boolValue == true)
        #expect(try broker.error("job:cancel", ["jobId": "q"]).kind == .conflict)
        #expect(try broker.error("job:cancel", ["jobId": "nope"]).kind == .notFound)
        #expect(try broker.error("job:get", ["jobId": "nope"]).kind == .notFound)

        let worker = try RawWorker(broker, service: "svc")
        try broker.call("job:submit", ["service": "svc", "jobId": "r"])
        #expect(try worker.nextRequest()?.jobId == "r")
        try broker.call("job:cancel", ["jobId": "r"])
        try worker.reply("r", result: "too late")
        try broker.call("job:submit", ["service": "svc", "jobId": "next"])
        #expect(try worker.nextRequest()?.jobId == "next")
        let cancelled = try broker.call("job:get", ["jobId": "r"])
        #expect(cancelled["state"]?.stringValue == "cancelled")
        #expect(cancelled["result"]?.isNull == true)
        let listed = try broker.call("job:list", ["state": "cancelled"])["jobs"]?.arrayValue ?? []
        #expect(Set(listed.compactMap { $0["jobId"]?.stringValue }) == ["q", "r"])
    }

    @Test("bad job parameters are refused with invalid_params")
    func badParameters() throws {
        let broker = try TestBroker()
        #expect(try broker.error("job:submit", ["service": "svc", "timeoutMs": 10]).kind == .invalidParams)
        #expect(try broker.error("job:submit", ["service": "svc", "maxAttempts": 0]).kind == .invalidParams)
        #expect(try broker.error("job:submit", ["payload": 1]).kind == .invalidParams)
        #expect(try broker.error("job:submit", ["service": "svc", "extra": 1]).kind == .invalidParams)
        #expect(try broker.error("job:wait", ["jobId": "x", "timeoutMs": 70_000]).kind == .invalidParams)
        #expect(try broker.error("job:list", ["state": "sleeping"]).kind == .invalidParams)
        #expect(try broker.error("worker:list", ["all": true]).kind == .invalidParams)
    }
}
