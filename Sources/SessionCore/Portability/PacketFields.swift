import BrokerProtocol

/// A session packet's members, checked: what importing it needs.
struct PacketFields {
    let version: Int64
    let type: String
    let featureId: String
    let taskId: String?
    let state: String
    let tokenLimit: Int64
    let context: JSON
    let agentDescription: JSON
    let checkpoint: Checkpoint

    init(_ packet: JSONObject) throws {
        func problem(_ message: String, _ path: String) -> ImportProblem { ImportProblem(message, path: path) }
        guard PortableFormat.isPacket(packet) else {
            throw problem("not a session packet (\"format\" must be \"\(PortableFormat.packet)\")", "format")
        }
        version =
            try FormatMigrations.version(declared: packet["packetVersion"], member: "packetVersion")
            ?? PortableFormat.packetVersion
        try FormatMigrations.check(
            version, supported: PortableFormat.packetVersion, what: "packet", member: "packetVersion")
        guard case .object(let session)? = packet["session"] else {
            throw problem("\"session\" must be an object", "session")
        }
        func text(_ key: String) throws -> String {
            guard let value = session[key]?.stringValue, !value.isEmpty else {
                throw problem("\"session.\(key)\" must be a non-empty string", "session.\(key)")
            }
            return value
        }
        type = try text("type")
        featureId = try text("featureId")
        taskId = session["taskId"]?.stringValue
        state = (try? text("state")) ?? "planning"
        tokenLimit = session["tokenLimit"]?.intValue ?? 100_000
        guard Limits.tokenLimitRange.contains(tokenLimit) else {
            throw problem("\"session.tokenLimit\" must be within \(Limits.tokenLimitRange)", "session.tokenLimit")
        }
        func document(_ key: String) throws -> JSON {
            switch packet[key] {
            case nil, .null?: return .object(JSONObject())
            case let value? where value.objectValue != nil || value.stringValue != nil: return value
            default: throw problem("\"\(key)\" must be an object or a string", key)
            }
        }
        context = try document("context")
        agentDescription = try document("agentDescription")
        guard case .object(let saved)? = packet["checkpoint"] else {
            throw problem("\"checkpoint\" must be an object", "checkpoint")
        }
        func list(_ key: String) throws -> [String] {
            switch saved[key] {
            case nil, .null?: return []
            case .array(let items)? where items.allSatisfy({ $0.stringValue != nil }):
                return items.compactMap(\.stringValue)
            default: throw problem("\"checkpoint.\(key)\" must be an array of strings", "checkpoint.\(key)")
            }
        }
        let summary = saved["summary"]?.stringValue ?? ""
        let lists = try ["completed", "pending", "decisions", "blockers"].map(list)
        let empty = summary.isEmpty && lists.allSatisfy(\.isEmpty)
        checkpoint = Checkpoint(
            version: empty ? 0 : 1, summary: summary, completed: lists[0], pending: lists[1], decisions: lists[2],
            blockers: lists[3])
    }
}
