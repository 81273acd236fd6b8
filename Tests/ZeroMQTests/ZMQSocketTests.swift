import Foundation
import Testing
import ZeroMQ

@Suite("ZeroMQ wrapper")
struct ZMQSocketTests {
    @Test("REQ/REP round trip over an ephemeral tcp port, multipart intact")
    func requestReply() throws {
        let context = try ZMQContext()
        let rep = try ZMQSocket(context: context, type: .rep)
        let endpoint = try rep.bind("tcp://127.0.0.1:*")
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:") && !endpoint.hasSuffix(":*"))
        let req = try ZMQSocket(context: context, type: .req)
        try req.connect(endpoint)
        try req.send([Array("a".utf8), [], Array("ccc".utf8)])
        let received = try #require(try rep.receive())
        #expect(received == [Array("a".utf8), [], Array("ccc".utf8)])
        try rep.send("pong")
        #expect(try req.receive() == [Array("pong".utf8)])
    }

    @Test("non-blocking receive and receive time-out return nil instead of throwing")
    func nothingToReceive() throws {
        let context = try ZMQContext()
        let pull = try ZMQSocket(context: context, type: .pull)
        try pull.bind("inproc://nothing")
        #expect(try pull.receive(dontWait: true) == nil)
        try pull.setReceiveTimeout(milliseconds: 20)
        #expect(try pull.receive() == nil)
    }

    @Test("REQ used out of order reports EFSM as a typed error")
    func wrongState() throws {
        let context = try ZMQContext()
        let req = try ZMQSocket(context: context, type: .req)
        try req.connect("inproc://nobody")
        #expect(throws: ZMQError.wrongState) {
            try req.setReceiveTimeout(milliseconds: 10); _ = try req.receive()
        }
    }

    @Test("binding a tcp port twice fails with EADDRINUSE")
    func addressInUse() throws {
        let context = try ZMQContext()
        let first = try ZMQSocket(context: context, type: .router)
        let endpoint = try first.bind("tcp://127.0.0.1:*")
        let second = try ZMQSocket(context: context, type: .router)
        #expect(throws: ZMQError.addressInUse) { try second.bind(endpoint) }
    }

    @Test("ROUTER_MANDATORY turns a reply to an unknown peer into EHOSTUNREACH")
    func routerMandatory() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context: context, type: .router)
        try router.setRouterMandatory(true)
        try router.bind("inproc://mandatory")
        #expect(throws: ZMQError.hostUnreachable) { try router.send([Array("ghost".utf8), Array("x".utf8)]) }
    }

    @Test("context shutdown wakes a blocked receive with ETERM")
    func shutdownWakesReceiver() throws {
        let context = try ZMQContext()
        let woke = ResultBox()
        let thread = Thread {
            do {
                let pull = try ZMQSocket(context: context, type: .pull)
                try pull.bind("inproc://blocked")
                woke.set("bound")
                _ = try pull.receive()
                woke.set("received")
            } catch let error as ZMQError {
                woke.set(error == .terminated ? "terminated" : "other \(error)")
            } catch {
                woke.set("other")
            }
        }
        thread.start()
        #expect(woke.wait(for: "bound"))
        context.shutdown()
        #expect(woke.wait(for: "terminated"))
    }

    @Test("poller reports a socket and an eventfd Wakeup")
    func pollerWithWakeup() throws {
        let context = try ZMQContext()
        let pull = try ZMQSocket(context: context, type: .pull)
        try pull.bind("inproc://poll")
        let push = try ZMQSocket(context: context, type: .push)
        try push.connect("inproc://poll")
        let wakeup = Wakeup()
        var poller = ZMQPoller()
        poller.add(pull)
        poller.add(fileDescriptor: wakeup.fileDescriptor)
        #expect(try poller.poll(timeoutMs: 0) == [])
        wakeup.signal()
        #expect(try poller.poll(timeoutMs: 100) == [1])
        wakeup.reset()
        try push.send("hi")
        #expect(try poller.poll(timeoutMs: 1000) == [0])
        #expect(try pull.receive(dontWait: true) == [Array("hi".utf8)])
    }

    @Test("MAXMSGSIZE drops a peer that sends a larger frame")
    func maxMessageSize() throws {
        let context = try ZMQContext()
        let pull = try ZMQSocket(context: context, type: .pull)
        try pull.setMaxMessageSize(100)
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        let push = try ZMQSocket(context: context, type: .push)
        try push.connect(endpoint)
        try push.send([[UInt8](repeating: 1, count: 1000)])
        try pull.setReceiveTimeout(milliseconds: 300)
        #expect(try pull.receive() == nil)
    }

    @Test("closing twice is harmless and later calls throw ENOTSOCK")
    func closeTwice() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context: context, type: .dealer)
        socket.close()
        socket.close()
        #expect(throws: ZMQError.self) { try socket.send("x") }
    }
}
