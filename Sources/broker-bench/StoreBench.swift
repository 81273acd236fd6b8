import BrokerProtocol
import SQLite
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

/// The writer alone, without sockets: microseconds per addMessage in batches of `batch`, over `sessions` sessions.
func measureStoreWrites(directory: String, sessions: Int, batch: Int, total: Int, counter: any TokenCounter) throws
    -> Double
{
    let file = try DatabaseFile(path: directory + "/store.db", syncMode: .normal)
    let writer = try SessionWriter(connection: try file.openWriter(), counter: counter, defaultTokenLimit: 100_000)
    try writer.beginBatch()
    var ids: [String] = []
    for index in 0..<sessions {
        let create = try CreateSession(params: Params(["type": "dev", "featureId": .string("f\(index)")]))
        let result = try writer.apply(.createSession(create)).get()
        ids.append(try JSONParser.parse(result)["sessionId"]!.stringValue!)
    }
    _ = try writer.commitBatch()
    let commands = try (0..<total).map { index in
        try AddMessage(
            params: Params([
                "sessionId": .string(ids[index % sessions]), "role": "assistant", "content": .string(sampleContent),
                "messageId": .string(Identifier.make("msg")),
            ]), maxContentBytes: 1 << 20)
    }
    let checkpointer = try file.openReader()
    let start = nowMicros()
    var index = 0
    while index < total {
        try writer.beginBatch()
        for command in commands[index..<min(total, index + batch)] { _ = try writer.apply(.addMessage(command)) }
        _ = try writer.commitBatch()
        index += batch
        if index % 10_000 == 0 { try checkpointer.checkpoint() }
    }
    return (nowMicros() - start) / Double(total)
}

/// The reader alone: milliseconds to serialize a page of `messages` messages, without sockets.
func measureStoreRead(directory: String, messages: Int, counter: any TokenCounter) throws -> Double {
    let file = try DatabaseFile(path: directory + "/read.db", syncMode: .normal)
    let writer = try SessionWriter(connection: try file.openWriter(), counter: counter, defaultTokenLimit: 100_000)
    try writer.beginBatch()
    let create = try CreateSession(params: Params(["type": "dev", "featureId": "read"]))
    let id = try JSONParser.parse(try writer.apply(.createSession(create)).get())["sessionId"]!.stringValue!
    for _ in 0..<messages {
        let add = try AddMessage(
            params: Params([
                "sessionId": .string(id), "role": "assistant", "content": .string(sampleContent),
            ]), maxContentBytes: 1 << 20)
        _ = try writer.apply(.addMessage(add))
    }
    _ = try writer.commitBatch()
    let reader = SessionReader(connection: try file.openReader(), counter: counter)
    var samples: [Double] = []
    for _ in 0..<20 {
        let start = nowMicros()
        let bytes = try reader.getMessages(Params(["sessionId": .string(id), "limit": .int(messages)]))
        reader.finish()
        samples.append((nowMicros() - start) / 1000)
        precondition(bytes.count > messages * 100)
    }
    return samples.sorted()[samples.count / 2]
}
