import BrokerProtocol
import Testing

@Suite("JSON-RPC request validation")
struct RPCRequestTests {
    private func reject(_ text: String) -> RejectedRequest? {
        if case .failure(let rejected) = RPCRequest.parse(frame: Array(text.utf8)) { return rejected }
        return nil
    }

    @Test("a valid request parses with its id, method and params")
    func valid() throws {
        let request = try RPCRequest.parse(
            frame: Array(#"{"jsonrpc":"2.0","id":"r1","method":"broker:ping","params":{"x":1}}"#.utf8)
        ).get()
        #expect(request.id == "r1")
        #expect(request.method == "broker:ping")
        #expect(request.params["x"] == 1)
    }

    @Test(
        "each malformed request gets its error kind",
        arguments: [
            ("not json", ErrorKind.parseError),
            ("[1,2]", .invalidRequest),
            ("42", .invalidRequest),
            (#"{"jsonrpc":"2.0","method":"broker:ping"}"#, .invalidRequest),
            (#"{"jsonrpc":"2.0","id":{},"method":"broker:ping"}"#, .invalidRequest),
            (#"{"jsonrpc":"1.0","id":1,"method":"broker:ping"}"#, .invalidRequest),
            (#"{"jsonrpc":"2.0","id":1,"method":""}"#, .invalidRequest),
            (#"{"jsonrpc":"2.0","id":1,"method":7}"#, .invalidRequest),
            (#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}"#, .invalidRequest),
            (#"{"jsonrpc":"2.0","id":1,"method":"m","extra":true}"#, .invalidRequest),
        ])
    func malformed(_ text: String, _ kind: ErrorKind) throws {
        let rejected = try #require(reject(text))
        #expect(rejected.error.kind == kind)
    }

    @Test("the id is echoed when it could be read")
    func idEchoed() throws {
        let rejected = try #require(reject(#"{"jsonrpc":"1.0","id":"abc","method":"m"}"#))
        #expect(rejected.id == "abc")
    }

    @Test("error replies carry code, message and data.kind")
    func errorReply() throws {
        let frame = RPCResponse.failure(id: 5, error: RPCError(.notFound, "gone", details: ["id": "s1"]))
        let reply = try JSONParser.parse(frame)
        #expect(reply["error"]?["code"] == .int(ErrorKind.notFound.code))
        #expect(reply["error"]?["data"]?["kind"] == "not_found")
        #expect(reply["error"]?["data"]?["id"] == "s1")
        guard case .error(let id, let error) = RPCReply.parse(frame: frame) else {
            Issue.record("not parsed as an error")
            return
        }
        #expect(id == 5 && error.kind == .notFound && error.message == "gone")
    }

    @Test("params: wrong types, missing and unknown names are invalid_params naming the field")
    func params() throws {
        let params = Params(["sessionId": 3, "limit": "ten", "name": ""])
        #expect(throws: RPCError.invalidParams("'sessionId' must be a string, got a number", field: "sessionId")) {
            try params.string("sessionId")
        }
        #expect(throws: RPCError.self) { try params.optionalInt("limit", range: 0...10) }
        #expect(throws: RPCError.self) { try params.identifier("name") }
        #expect(throws: RPCError.self) { try params.string("missing") }
        #expect(throws: RPCError.self) { try params.requireOnly(["sessionId", "limit"]) }
        let big = Params(["content": .string(String(repeating: "x", count: 100))])
        #expect(throws: RPCError.self) { try big.string("content", maxBytes: 10) }
    }
}
