import BrokerProtocol
import Foundation
import SQLite

@testable import SessionCore

/// A temporary database with a writer and a reader, as the broker's threads hold them.
final class StoreFixture {
    let directory: String
    let path: String
    var file: DatabaseFile?
    var writer: SessionWriter!
    var reader: SessionReader!
    let counter: any TokenCounter

    init(counter: any TokenCounter = StoreFixture.exact) throws {
        directory = NSTemporaryDirectory() + "store-" + UUID().uuidString
        path = directory + "/test.db"
        self.counter = counter
        try open()
    }

    /// The exact tokenizer, loaded once for all tests.
    static let exact: any TokenCounter = TokenCounterLoader.loadDefault().counter

    func open() throws {
        let file = try DatabaseFile(path: path, syncMode: .normal)
        self.file = file
        _ = try TokenRecount.reconcile(try file.openWriter(), counter: counter)
        writer = try SessionWriter(connection: try file.openWriter(), counter: counter, defaultTokenLimit: 100_000)
        reader = SessionReader(connection: try file.openReader(), counter: counter)
    }

    /// Closes everything, as a stopped broker does, so the database can be reopened.
    func close() {
        writer = nil
        reader = nil
        file = nil
    }

    deinit {
        close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs commands as one group-committed batch and returns their results.
    func batch(_ commands: [WriteCommand]) throws -> [Result<JSON, RPCError>] {
        try writer.beginBatch()
        let results = try commands.map { try writer.apply($0) }
        _ = try writer.commitBatch()
        return results.map { $0.map { try! JSONParser.parse($0) } }
    }

    func write(_ command: WriteCommand) throws -> JSON {
        try batch([command])[0].get()
    }

    func createSession(_ params: JSONObject = ["type": "dev", "featureId": "f1"]) throws -> String {
        try write(.createSession(CreateSession(params: Params(params))))["sessionId"]!.stringValue!
    }

    func add(_ sessionId: String, _ content: String, role: String = "user", messageId: String? = nil) throws -> JSON {
        var params: JSONObject = ["sessionId": .string(sessionId), "role": .string(role), "content": .string(content)]
        if let messageId { params["messageId"] = .string(messageId) }
        return try write(.addMessage(AddMessage(params: Params(params), maxContentBytes: 1 << 20)))
    }

    func read(_ body: (SessionReader) throws -> [UInt8]) throws -> JSON {
        defer { reader.finish() }  // as the broker's reader loop does after every request, failed or not
        let bytes = try body(reader)
        return try JSONParser.parse(bytes)
    }
}
