import BrokerProtocol
import SQLite

/// The header members every exported document shares.
struct DocumentHeader {
    let exportedAt = Timestamp.now()
    let exportedBy: String
    let stats: [(section: PortableSection, count: Int64)]

    var statsJSON: JSON {
        .object(JSONObject(stats.map { (key: $0.section.rawValue, value: JSON.int($0.count)) }))
    }
}

extension ExportCursor {
    /// A backup or a session document: the header, then each section as an array, one record per line.
    func jsonDocument(format: String, header: DocumentHeader, filter: ExportFilter) throws(SQLiteError) -> [Piece] {
        var head = JSONObject([
            ("format", .string(format)), ("formatVersion", .int(PortableFormat.currentVersion)),
            ("exportedAt", .string(Timestamp.iso8601(header.exportedAt))), ("exportedBy", .string(header.exportedBy)),
            ("brokerVersion", .string(BrokerVersion.version)),
        ])
        if format == PortableFormat.backup { head["schemaVersion"] = .int(Schema.currentVersion) }
        head["stats"] = header.statsJSON
        var text = JSON.object(head).serialized
        text.removeLast()  // the closing brace: the sections follow
        var pieces: [Piece] = [.text(text)]
        for (section, _) in stats {
            guard let statement = try statement(section, filter) else { continue }
            pieces.append(.text(Array(",\n\"\(section.rawValue)\":[\n".utf8)))
            pieces.append(.rows(RowPiece(statement, separator: ",\n") { ExportRecords.write(section, $0, to: $1) }))
            pieces.append(.text(Array("\n]".utf8)))
        }
        pieces.append(.text(Array("}\n".utf8)))
        return pieces
    }

    /// A trace bundle's JSONL: the manifest line, then one `{source, entry}` line per row.
    func traceBundle(header: DocumentHeader, filter: ExportFilter) throws(SQLiteError) -> [Piece] {
        let manifest = JSON.object(
            JSONObject([
                ("type", "manifest"), ("version", .int(PortableFormat.tracesVersion)),
                ("exportedAt", .string(Timestamp.iso8601(header.exportedAt))),
                ("exportedBy", .string(header.exportedBy)), ("brokerVersion", .string(BrokerVersion.version)),
                ("recordFormatVersion", .int(PortableFormat.currentVersion)),
                (
                    "filter",
                    .object(
                        JSONObject([
                            ("since", filter.since.map { .string(Timestamp.iso8601($0)) } ?? .null),
                            ("sessionId", .optional(filter.sessionId)),
                        ]))
                ),
                ("sources", .strings(stats.map(\.section.rawValue))), ("counts", header.statsJSON),
                ("totalCount", .int(totalRows)),
            ]))
        var pieces: [Piece] = [.text(manifest.serialized + [0x0A])]
        for (section, _) in stats {
            guard let statement = try statement(section, filter) else { continue }
            pieces.append(
                .rows(
                    RowPiece(statement, prefix: "{\"source\":\"\(section.rawValue)\",\"entry\":", suffix: "}\n") {
                        ExportRecords.write(section, $0, to: $1)
                    }))
        }
        return pieces
    }
}
