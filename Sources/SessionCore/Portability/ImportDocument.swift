import BrokerProtocol

/// The records of an import file, in file order, from a JSON document or a JSONL trace bundle.
///
/// The header (every top-level member before the first section, or a bundle's
/// manifest line) is handed over before the first record so the reader of the
/// records knows the format version they were written in.
final class ImportDocument {
    enum Layout { case document, jsonl }

    /// One record and how to point at it in a problem report.
    struct Record {
        let section: PortableSection
        let index: Int
        let object: JSONObject
        let scanner: FileScanner
        let start: Int

        var path: String { "\(section.rawValue)[\(index)]" }

        func problem(_ message: String, member: String? = nil) -> ImportProblem {
            scanner.problem(message, at: start, path: member.map { "\(path).\($0)" } ?? path)
        }
    }

    let path: String
    let layout: Layout

    init(path: String, layout: Layout) {
        self.path = path
        self.layout = layout
    }

    /// Reads the file once: `header` with the members before the records, then `record` for each record.
    func read(
        header: (JSONObject, FileScanner) throws -> Void,
        record: (Record) throws -> Void
    ) throws {
        let scanner = try FileScanner(path: path)
        switch layout {
        case .document: try readDocument(scanner, header: header, record: record)
        case .jsonl: try readLines(scanner, header: header, record: record)
        }
    }

    private func readDocument(
        _ scanner: FileScanner, header: (JSONObject, FileScanner) throws -> Void,
        record: (Record) throws -> Void
    ) throws {
        guard try !scanner.atEnd() else { throw scanner.problem("the file is empty", path: "") }
        try scanner.expect(UInt8(ascii: "{"), "a JSON object ('{') at the start of the file", path: "")
        var members = JSONObject()
        var headerDone = false
        var seen: Set<String> = []
        if try !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                guard case .string(let key) = try scanner.value(path: "") else {
                    throw scanner.problem("expected a member name", at: scanner.lastValueStart, path: "")
                }
                try scanner.expect(UInt8(ascii: ":"), "':' after \"\(key)\"", path: key)
                if let section = PortableSection(rawValue: key), try scanner.peek() == UInt8(ascii: "[") {
                    guard seen.insert(key).inserted else {
                        throw scanner.problem("section \"\(key)\" appears twice", path: key)
                    }
                    if !headerDone {
                        try header(members, scanner)
                        headerDone = true
                    }
                    try readSection(section, scanner, record: record)
                } else {
                    let value = try scanner.value(path: key)
                    if headerDone && (key == "formatVersion" || key == "format") {
                        throw scanner.problem(
                            "\"\(key)\" must come before the sections", at: scanner.lastValueStart, path: key)
                    }
                    members[key] = value
                }
            } while try scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' after a member", path: "")
        }
        if !headerDone { try header(members, scanner) }
        guard try scanner.atEnd() else { throw scanner.problem("unexpected data after the document", path: "") }
    }

    private func readSection(
        _ section: PortableSection, _ scanner: FileScanner, record: (Record) throws -> Void
    ) throws {
        try scanner.expect(UInt8(ascii: "["), "'['", path: section.rawValue)
        if try scanner.consume(UInt8(ascii: "]")) { return }
        var index = 0
        repeat {
            let path = "\(section.rawValue)[\(index)]"
            guard case .object(let object) = try scanner.value(path: path) else {
                throw scanner.problem("expected an object", at: scanner.lastValueStart, path: path)
            }
            try record(
                Record(section: section, index: index, object: object, scanner: scanner, start: scanner.lastValueStart))
            index += 1
        } while try scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "]"), "',' or ']' in \"\(section.rawValue)\"", path: section.rawValue)
    }

    private func readLines(
        _ scanner: FileScanner, header: (JSONObject, FileScanner) throws -> Void,
        record: (Record) throws -> Void
    ) throws {
        guard case .object(let manifest)? = try scanner.line(path: "line 1") else {
            throw scanner.problem("line 1 must be the manifest object", at: scanner.lastValueStart, path: "line 1")
        }
        try header(manifest, scanner)
        var counts: [PortableSection: Int] = [:]
        var line = 1
        while let value = try scanner.line(path: "line \(line + 1)") {
            line += 1
            let start = scanner.lastValueStart
            guard case .object(let envelope) = value, case .string(let source)? = envelope["source"],
                case .object(let entry)? = envelope["entry"]
            else {
                throw scanner.problem(
                    "expected {\"source\": string, \"entry\": object}", at: start, path: "line \(line)")
            }
            guard let section = PortableSection(rawValue: source) else {
                throw scanner.problem("unknown source \"\(source)\"", at: start, path: "line \(line).source")
            }
            let index = counts[section, default: 0]
            counts[section] = index + 1
            try record(Record(section: section, index: index, object: entry, scanner: scanner, start: start))
        }
    }
}
