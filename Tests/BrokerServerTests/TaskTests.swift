import BrokerProtocol
import Testing

/// Tasks of the Ralph Loop: creation, dependencies, the state machine, iterations.
@Suite("tasks")
struct TaskTests {
    @Test("create with dependencies; a retried create returns the task; another under its id conflicts")
    func create() throws {
        let broker = try TestBroker()
        let first = try broker.call(
            "task:create",
            [
                "taskId": "f-t1", "featureId": "f", "title": "one", "description": "do one",
                "checks": ["sh a.sh", ["name": "b", "command": "sh b.sh", "timeoutMs": 5_000]],
                "workspace": ["repo": "/tmp/r", "baseBranch": "feature/f", "branch": "task/f-t1"],
            ])
        #expect(first["state"]?.stringValue == "planning")
        #expect(first["checks"]?.arrayValue?.count == 2)
        #expect(first["checks"]?.arrayValue?.first?["name"]?.stringValue == "sh a.sh")
        let second = try broker.call(
            "task:create", ["taskId": "f-t2", "featureId": "f", "title": "two", "dependsOn": ["f-t1"]])
        #expect(second["dependsOn"]?.arrayValue == ["f-t1"])
        let unknown = try broker.error(
            "task:create", ["taskId": "f-t3", "featureId": "f", "title": "x", "dependsOn": ["nope"]])
        #expect(unknown.kind == .invalidParams)
        let retried = try broker.call(
            "task:create", ["taskId": "f-t2", "featureId": "f", "title": "two", "dependsOn": ["f-t1"]])
        #expect(retried == second)
        #expect(try broker.error("task:create", ["taskId": "f-t2", "featureId": "f", "title": "2"]).kind == .conflict)
        #expect(
            try broker.error("task:create", ["featureId": "f", "title": "x", "checks": [1]]).kind == .invalidParams)
        #expect(
            try broker.error("task:create", ["featureId": "f", "title": "x", "workspace": ["repo": "r"]]).kind
                == .invalidParams)
        let listed = try broker.call("task:list", ["featureId": "f"])["tasks"]?.arrayValue ?? []
        #expect(listed.compactMap { $0["taskId"]?.stringValue } == ["f-t1", "f-t2"])
        #expect(try broker.events("task:created").count == 2)
    }

    @Test("the state machine: allowed moves, refused ones, sessions per state, iterations")
    func stateMachine() throws {
        let broker = try TestBroker()
        try broker.call("task:create", ["taskId": "t", "featureId": "f", "title": "t"])
        #expect(try broker.error("task:update", ["taskId": "t", "state": "done"]).kind == .conflict)
        let inDev = try broker.call(
            "task:update", ["taskId": "t", "state": "in_dev", "iteration": 1, "sessionId": "s-dev"])
        #expect(inDev["sessions"]?["in_dev"]?.arrayValue == ["s-dev"])
        #expect(inDev["iteration"]?.intValue == 1)
        try broker.call("task:update", ["taskId": "t", "state": "in_qa", "sessionId": "s-qa"])
        let recorded = try broker.call(
            "task:recordIteration", ["taskId": "t", "iteration": 1, "results": ["passed": false, "checks": []]])
        #expect(recorded["passed"]?.boolValue == false)
        try broker.call("task:update", ["taskId": "t", "state": "in_dev", "iteration": 2, "sessionId": "s-dev"])
        try broker.call("task:update", ["taskId": "t", "state": "in_qa"])
        try broker.call("task:recordIteration", ["taskId": "t", "iteration": 2, "results": ["passed": true]])
        try broker.call("task:update", ["taskId": "t", "state": "in_review"])
        let done = try broker.call("task:update", ["taskId": "t", "state": "done"])
        #expect(done["state"]?.stringValue == "done")
        #expect(done["sessions"]?["in_dev"]?.arrayValue == ["s-dev"])
        #expect(try broker.error("task:update", ["taskId": "t", "state": "in_dev"]).kind == .conflict)
        let task = try broker.call("task:get", ["taskId": "t"])
        let iterations = task["iterations"]?.arrayValue ?? []
        #expect(iterations.compactMap { $0["passed"]?.boolValue } == [false, true])
        #expect(try broker.call("task:list", ["state": "done"])["tasks"]?.arrayValue?.count == 1)
        #expect(try broker.error("task:update", ["taskId": "t", "state": "sleeping"]).kind == .invalidParams)
        #expect(try broker.error("task:get", ["taskId": "nope"]).kind == .notFound)
        #expect(
            try broker.error("task:recordIteration", ["taskId": "t", "iteration": 0, "results": [:]]).kind
                == .invalidParams)
        let moves = try broker.events("task:updated").map { "\($0.text("previousState"))>\($0.text("state"))" }
        #expect(moves.first == "planning>in_dev" && moves.last == "in_review>done")
        #expect(try broker.events("task:iteration").count == 2)
    }

    @Test("a failed task can go back to Dev, which clears its failure reason")
    func retryAfterFailure() throws {
        let broker = try TestBroker()
        try broker.call("task:create", ["taskId": "t", "featureId": "f", "title": "t"])
        let failed = try broker.call("task:update", ["taskId": "t", "state": "failed", "failureReason": "no luck"])
        #expect(failed["failureReason"]?.stringValue == "no luck")
        let again = try broker.call("task:update", ["taskId": "t", "state": "in_dev"])
        #expect(again["failureReason"]?.isNull == true)
    }
}
