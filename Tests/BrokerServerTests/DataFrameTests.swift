import BrokerClient
import BrokerProtocol
import Foundation
import Testing
import ZeroMQ

/// Transfers with a raw data frame beside the JSON one (AGENTBROKER-RPC 4.2): `export:read` with
/// `dataFrame` and `import:write` with the piece after the request, as brokerctl moves files.
@Suite("Transfer data frames")
struct DataFrameTests {
    /// A session whose text needs escaping in JSON: quotes, backslashes, control characters, 2- to 4-byte UTF-8.
    static func trickySession(_ broker: TestBroker) throws -> String {
        let id = try broker.createSession()
        let contents =
            [
                "plain", "quotes \" and \\ backslashes", "lines\nand\ttabs\u{1}", "é Ω 你好 🎉 𝄞",
                String(repeating: "long 🎉 text ", count: 2_000),
            ] + (0..<40).map { "message \($0): " + String(repeating: "ü\"x", count: 100) }
        for content in contents {
            try broker.call(
                "session:addMessage", ["sessionId": .string(id), "role": "user", "content": .string(content)])
        }
        return id
    }

    @Test("export:read with dataFrame sends each piece as raw bytes: the same document as the JSON strings")
    func exportInFrames() throws {
        let broker = try TestBroker()
        let id = try Self.trickySession(broker)
        let params: JSONObject = ["kind": "session", "sessionId": .string(id), "format": "json"]
        let expected = try broker.exportDocument(params, maxBytes: 4096).text

        let client = broker.client(timeoutMs: 30_000)
        let exportId = try #require(try client.call("export:open", params)["exportId"]?.stringValue)
        var document: [UInt8] = []
        var pieces = 0
        while true {
            let (result, data) = try client.call(
                "export:read", ["exportId": .string(exportId), "maxBytes": 4096, "dataFrame": true], data: nil)
            let frame = try #require(data, "no data frame in reply \(pieces)")
            #expect(result["data"] == nil)
            #expect(result["dataBytes"]?.intValue == Int64(frame.count))
            document += frame
            #expect(result["bytes"]?.intValue == Int64(document.count))
            pieces += 1
            if result["done"] == true { break }
            guard pieces < 10_000 else { throw TestFailure("export:read never said done") }
        }
        #expect(pieces > 3, "the document should take several 4 KiB pieces")
        // The same document but for the time each export was taken (printed only in part: it is long).
        let same =
            try Self.withoutExportTime(String(decoding: document, as: UTF8.self)) == Self.withoutExportTime(expected)
        #expect(same, "the documents differ: \(String(decoding: document.prefix(300), as: UTF8.self))")
        #expect(try broker.error("export:read", ["exportId": .string(exportId)]).kind == .notFound)
        // Without dataFrame the reply is one frame, as before.
        let again = try #require(try client.call("export:open", params)["exportId"]?.stringValue)
        let plain = try client.call("export:read", ["exportId": .string(again)], data: nil)
        let plainText = try #require(plain.result["data"]?.stringValue)
        #expect(plain.data == nil && plain.result["done"] == true)
        #expect(try Self.withoutExportTime(plainText) == Self.withoutExportTime(expected), "the documents differ")
    }

    static func withoutExportTime(_ document: String) throws -> JSON {
        guard case .object(var object) = try JSONParser.parse(Array(document.utf8)) else {
            throw TestFailure("not a JSON object")
        }
        #expect(object["exportedAt"] != nil)
        object["exportedAt"] = nil
        return .object(object)
    }

    @Test("import:write takes its piece as a data frame; a bad frame is refused and the import goes on")
    func importInFrames() throws {
        let broker = try TestBroker()
        let source = try Self.trickySession(broker)
        let text = try broker.exportDocument(["kind": "session", "sessionId": .string(source)]).text
        let bytes = Array(text.utf8)
        let client = broker.client(timeoutMs: 30_000)
        let importId = try #require(try client.call("import:begin", ["kind": "session"])["importId"]?.stringValue)
        func write(_ seq: Int64, _ data: [UInt8], _ extra: JSONObject = [:]) throws -> JSON {
            var params: JSONObject = ["importId": .string(importId), "seq": .int(seq)]
            for (key, value) in extra { params[key] = value }
            return try client.call("import:write", params, data: data).result
        }
        func refusal(_ seq: Int64, _ data: [UInt8], _ extra: JSONObject = [:]) throws -> RPCError {
            do {
                let result = try write(seq, data, extra)
                throw TestFailure("accepted: \(result.serializedString)")
            } catch ClientError.rpc(let error) {
                return error
            }
        }
        // Half of a 2-byte character, then a lone continuation byte: not whole UTF-8 characters.
        for bad: [UInt8] in [Array("é".utf8).prefix(1).map { $0 }, [0x80], [0xED, 0xA0, 0x80]] {
            let refused = try refusal(0, bad)
            #expect(refused.kind == .invalidParams && refused.details["field"] == "data", "\(refused)")
        }
        let both = try refusal(0, Array("{".utf8), ["data": "{"])
        #expect(both.kind == .invalidParams && both.message.contains("not both"), "\(both)")

        // Pieces cut at character boundaries (never inside the emoji of the content).
        var offset = 0
        var seq: Int64 = 0
        while offset < bytes.count {
            var end = min(bytes.count, offset + 1000)
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            let written = try write(seq, Array(bytes[offset..<end]))
            #expect(written["bytes"]?.intValue == Int64(end))
            offset = end
            seq += 1
        }
        #expect(seq > 3)
        let committed = try client.call("import:commit", ["importId": .string(importId)])
        let newId = try #require(committed["sessionId"]?.stringValue)
        let all: JSONObject = ["includeArchived": true]
        let original = try broker.call("session:getMessages", all.merging(["sessionId": .string(source)]))
        let copy = try broker.call("session:getMessages", all.merging(["sessionId": .string(newId)]))
        #expect(
            original["messages"]?.arrayValue?.map { $0["content"] }
                == copy["messages"]?.arrayValue?.map { $0["content"] })
    }

    @Test("a trace bundle that inflates past the request limit imports in pieces under it")
    func compressibleBundle() throws {
        let limit = 2 << 20
        let source = try TestBroker { $0.maxRequestBytes = limit }
        let id = try source.createSession()
        let content = String(repeating: "same words again ", count: 60_000)  // about 1 MB, compresses ~1000x
        for _ in 0..<3 {
            try source.call(
                "session:addMessage", ["sessionId": .string(id), "role": "user", "content": .string(content)])
        }
        let bundle = scratchDirectory() + "/bundle.jsonl.gz"
        let exported = try source.ctl(["traces", "export", "--out", bundle, "--quiet"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: bundle)[.size] as? Int)
        #expect(size < limit / 8, "the bundle should be small: \(size) bytes")  // one read inflates past the limit

        let target = try TestBroker { $0.maxRequestBytes = limit }
        let imported = try target.ctl(["traces", "import", bundle, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let all: JSONObject = ["sessionId": .string(id), "includeArchived": true]
        let copy = try target.call("session:getMessages", all)["messages"]?.arrayValue ?? []
        #expect(copy.count == 3 && copy.allSatisfy { $0["content"]?.stringValue == content })
    }

    @Test("a data frame anywhere else, or a third frame, is invalid_request; an oversized one is too_large")
    func framing() throws {
        let broker = try TestBroker { $0.maxRequestBytes = 64 << 10 }
        func body(_ method: String, _ params: JSONObject) -> [UInt8] {
            RPCRequest(id: 7, method: method, params: params).frame
        }
        let ping = try #require(try broker.raw([[], body("broker:ping", [:]), Array("data".utf8)]))
        #expect(ping["error"]?["data"]?["kind"] == "invalid_request", "\(ping)")
        #expect(ping["error"]?["message"]?.stringValue?.contains("import:write") == true, "\(ping)")
        #expect(ping["id"] == .null)

        let importId = try #require(try broker.call("import:begin", ["kind": "backup"])["importId"]?.stringValue)
        let write = body("import:write", ["importId": .string(importId), "seq": 0])
        let three = try #require(try broker.raw([[], write, Array("{".utf8), Array("}".utf8)]))
        #expect(three["error"]?["data"]?["kind"] == "invalid_request", "\(three)")
        let big = try #require(try broker.raw([[], write, [UInt8](repeating: 0x20, count: (64 << 10) + 1)]))
        #expect(big["error"]?["data"]?["kind"] == "too_large", "\(big)")
        // None of them reached the spool: the first piece is still seq 0.
        let accepted = try #require(try broker.raw([[], write, Array("{}".utf8)]))
        #expect(accepted["result"]?["bytes"] == 2, "\(accepted)")
    }
}

extension JSONObject {
    fileprivate func merging(_ other: JSONObject) -> JSONObject {
        var merged = self
        for (key, value) in other { merged[key] = value }
        return merged
    }
}
