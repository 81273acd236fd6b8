import BrokerProtocol
import Foundation
import SQLite
import Testing

@testable import SessionCore

@Suite("Database file")
struct DatabaseFileTests {
    @Test("a database from a newer schema is refused and left byte for byte untouched")
    func newerSchemaRefused() throws {
        let store = try StoreFixture()
        store.close()
        let raw = try Connection(path: store.path)
        try raw.execute("PRAGMA journal_mode=DELETE; PRAGMA user_version = 99")
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path))
        #expect {
            _ = try DatabaseFile(path: store.path, syncMode: .normal)
        } throws: { error in
            "\(error)".contains("newer than this broker supports")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)
    }

    @Test("a file that is not a database is refused with a clear message")
    func corruptRefused() throws {
        let directory = NSTemporaryDirectory() + "corrupt-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/broker.db"
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try DatabaseFile(path: path, syncMode: .normal)
        } throws: { error in
            "\(error)".contains("not a valid AgentBroker database")
        }
    }

    @Test("a second opener of the same database is refused while the first holds it")
    func exclusiveLock() throws {
        let store = try StoreFixture()
        #expect {
            _ = try DatabaseFile(path: store.path, syncMode: .normal)
        } throws: { error in
            "\(error)".contains("in use by another broker")
        }
    }

    @Test("counts written by the approximation are recounted exactly on the next exact start")
    func recountMigration() throws {
        let store = try StoreFixture(counter: ApproximateTokenCounter())
        let id = try store.createSession()
        _ = try store.add(id, "Exact counting matters for code: func f() { return 42 }")
        _ = try store.add(id, "日本語のテキストも正確に数えます。")
        let path = store.path
        store.close()
        let file = try DatabaseFile(path: path, syncMode: .normal)
        let outcome = try TokenRecount.reconcile(try file.openWriter(), counter: StoreFixture.exact)
        #expect(outcome.recountedMessages == 2)
        #expect(outcome.previousCounter == TokenRecount.approximateName)
        let reader = SessionReader(connection: try file.openReader(), counter: StoreFixture.exact)
        let page = try JSONParserHelper.parse(try reader.getMessages(Params(["sessionId": .string(id)])))
        let exact = [
            "Exact counting matters for code: func f() { return 42 }", "日本語のテキストも正確に数えます。",
        ].map { Int64(MessageTokens.count(content: $0, name: nil, counter: StoreFixture.exact)) }
        #expect(page["messages"]?.arrayValue?.compactMap { $0["tokens"]?.intValue } == exact)
        reader.finish()
        let size = try JSONParserHelper.parse(try reader.estimateSize(Params(["sessionId": .string(id)])))
        #expect(size["messageTokens"]?.intValue == exact.reduce(0, +))
        #expect(size["exact"] == true)
        #expect(try TokenRecount.reconcile(try file.openWriter(), counter: StoreFixture.exact).recountedMessages == 0)
    }

    @Test("timestamps and ids")
    func timestampsAndIds() {
        #expect(Timestamp.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(1_795_448_922_123) == "2026-11-23T15:48:42.123Z")
        #expect(Timestamp.iso8601(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        let first = Identifier.make("msg")
        usleep(2_000)
        let second = Identifier.make("msg")
        #expect(first < second && first.count == 30)
    }
}

enum JSONParserHelper {
    static func parse(_ bytes: [UInt8]) throws -> JSON { try JSONParser.parse(bytes) }
}

@Suite("Timestamp cache")
struct TimestampCacheTests {
    @Test("writes the same text as Timestamp.iso8601 across seconds and milliseconds")
    func matchesFormatter() throws {
        var cache = TimestampCache()
        for millis: Int64 in [
            0, 999, 1_000, 1_795_448_922_001, 1_795_448_922_999, 1_795_448_923_050, 1_795_448_922_500,
        ] {
            var writer = JSONWriter()
            cache.write(millis, to: &writer)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == "\"\(Timestamp.iso8601(millis))\"")
        }
    }
}
