import BrokerProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Formatting for people: aligned tables and indented JSON.
enum Pretty {
    /// A table with a header row; columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// A value for a table cell: strings bare, null as "-", the rest as JSON.
    static func cell(_ value: JSON?) -> String {
        switch value {
        case nil, .null?: "-"
        case .string(let text)?: text
        case let other?: other.serializedString
        }
    }

    /// Indented JSON (two spaces), keys in the broker's order.
    static func json(_ value: JSON, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + json($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let object) where object.count > 0:
            let members = object.pairs.map {
                inner + JSON.string($0.key).serializedString + ": " + json($0.value, indent: inner)
            }
            return "{\n" + members.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.serializedString
        }
    }

    /// `key: value` lines for one object.
    static func fields(_ object: JSONObject) -> String {
        let width = object.keys.map(\.count).max() ?? 0
        return object.pairs.map { pair in
            pair.key + ":" + String(repeating: " ", count: width - pair.key.count + 1) + cell(pair.value)
        }.joined(separator: "\n")
    }
}

/// Writes a line to standard error (unbuffered, so it is never lost at exit).
func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Writes text to standard error without a newline (a prompt, a progress bar).
func writeError(_ text: String) {
    _ = text.withCString { write(2, $0, strlen($0)) }
}

/// Pushes buffered standard output out now (events are read live through pipes).
func flushOutput() {
    fflush(nil)
}
