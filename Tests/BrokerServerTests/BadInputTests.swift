import BrokerProtocol
import Testing
import ZeroMQ

@Suite("Bad input gets a clear error and loses nothing")
struct BadInputTests {
    private func kind(_ reply: JSON?) -> String? { reply?["error"]?["data"]?["kind"]?.stringValue }

    @Test("garbage bytes, invalid UTF-8, invalid JSON and non-requests")
    func malformedFrames() throws {
        let broker = try TestBroker()
        #expect(kind(try broker.raw([[], [0xFF, 0x00, 0xC3, 0x28]])) == "parse_error")
        #expect(
            kind(
                try broker.raw([
                    [],
                    Array(#"{"jsonrpc":"2.0","id":1,"method":"broker:ping","params":{"x":"\#u{FFFD}"}"#.utf8).dropLast(
                        1) + [0xC3, 0x22, 0x7D, 0x7D],
                ])) == "parse_error")
        #expect(kind(try broker.raw([[], Array("{\"jsonrpc\":".utf8)])) == "parse_error")
        #expect(
            kind(try broker.raw([[], Array("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broker:ping\"}]".utf8)]))
                == "invalid_request")
        #expect(
            kind(try broker.raw([[], Array("{\"jsonrpc\":\"2.0\",\"method\":\"broker:ping\"}".utf8)]))
                == "invalid_request")
        #expect(kind(try broker.raw([[], Array("\"just a string\"".utf8)])) == "invalid_request")
        #expect(kind(try broker.raw([[], []])) == "parse_error")
        // The broker still serves everyone after all that.
        #expect(try broker.call("broker:ping")["protocolVersion"] == 1)
    }

    @Test("unexpected extra frames are an invalid_request; DEALER without a delimiter is served")
    func frames() throws {
        let broker = try TestBroker()
        let ping = RPCRequest(id: 7, method: "broker:ping").frame
        #expect(kind(try broker.raw([[], ping, Array("extra".utf8)])) == "invalid_request")
        #expect(try broker.raw([ping])?["result"]?["protocolVersion"] == 1)
        #expect(try broker.raw([[], ping])?["id"] == 7)
    }

    @Test("unknown method, wrong types, missing and unknown parameters")
    func params() throws {
        let broker = try TestBroker()
        #expect(try broker.error("session:explode").kind == .methodNotFound)
        #expect(try broker.error("session:create", ["type": 5, "featureId": "f"]).kind == .invalidParams)
        #expect(try broker.error("session:create", ["type": "dev"]).kind == .invalidParams)
        #expect(
            try broker.error("session:create", ["type": "dev", "featureId": "f", "colour": "red"]).kind
                == .invalidParams)
        let id = try broker.createSession()
        let wrongRole = try broker.error(
            "session:addMessage", ["sessionId": .string(id), "role": "robot", "content": "x"])
        #expect(wrongRole.kind == .invalidParams && wrongRole.details["field"] == "role")
        #expect(
            try broker.error("session:getMessages", ["sessionId": .string(id), "limit": "all"]).kind == .invalidParams)
        #expect(try broker.error("session:getMessages", ["sessionId": .string(id), "limit": 0]).kind == .invalidParams)
        #expect(
            try broker.error(
                "session:addMessage", ["sessionId": .string(id), "role": "user", "content": "x", "metadata": "no"]
            ).kind == .invalidParams)
        #expect(try broker.error("session:list", ["cursor": "garbage"]).kind == .invalidParams)
        #expect(try broker.error("events:since", [:]).kind == .invalidParams)
    }

    @Test("unknown ids are not_found and write nothing")
    func unknownIds() throws {
        let broker = try TestBroker()
        for method in [
            "session:get", "session:getMessages", "session:getCheckpoint", "session:estimateSize",
            "session:clearMessages", "session:reset", "session:delete", "session:getContext",
        ] {
            #expect(try broker.error(method, ["sessionId": "ses_nobody"]).kind == .notFound, "\(method)")
        }
        #expect(
            try broker.error("session:addMessage", ["sessionId": "ses_nobody", "role": "user", "content": "x"]).kind
                == .notFound)
        #expect(try broker.call("broker:stats")["messages"] == 0)
        #expect(try broker.call("events:since", ["seq": 0])["events"] == [])
    }

    @Test("an oversized request is too_large; a frame past ZMQ_MAXMSGSIZE gets no answer; others are served")
    func oversized() throws {
        let broker = try TestBroker { $0.maxRequestBytes = 64 * 1024 }
        let id = try broker.createSession()
        let big = String(repeating: "x", count: 100 * 1024)
        let tooLarge = try broker.error(
            "session:addMessage", ["sessionId": .string(id), "role": "user", "content": .string(big)])
        #expect(tooLarge.kind == .tooLarge)
        #expect(tooLarge.details["limit"] == .int(64 * 1024))
        let huge = [UInt8](repeating: 0x20, count: 1 << 20)  // far above 4 x 64 KiB + 1 MiB? no: 1 MiB < 1.25 MiB
        #expect(kind(try broker.raw([[], huge])) != nil)
        let enormous = [UInt8](repeating: 0x20, count: 2 << 20)  // above the transport limit: libzmq drops the peer
        #expect(try broker.raw([[], enormous], timeoutMs: 500) == nil)
        #expect(try broker.call("broker:ping")["protocolVersion"] == 1)
        #expect(try broker.call("session:get", ["sessionId": .string(id)])["messageCount"] == 0)
    }
}
