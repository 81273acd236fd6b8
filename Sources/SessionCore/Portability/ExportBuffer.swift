import BrokerProtocol
import SQLite

/// The output of an export between two reads: record after record, written straight from SQLite rows.
///
/// A row the database holds but JSON cannot carry faithfully (text that is
/// not UTF-8, a stored JSON column that does not parse) is still written,
/// repaired, with an `unrepresentable` member saying why: counted and
/// reported, never dropped.
final class ExportBuffer {
    var json: JSONWriter
    /// Why the record being written is not faithful, if it is not.
    private var problem: String?
    private var firstMember = true

    init(capacity: Int) { json = JSONWriter(capacity: capacity) }

    var count: Int { json.bytes.count }

    /// Starts a record object.
    func begin() {
        json.raw("{")
        firstMember = true
        problem = nil
    }

    /// Ends the record; returns whether it was flagged unrepresentable.
    @discardableResult
    func end() -> Bool {
        defer { json.raw("}") }
        guard let problem else { return false }
        key("unrepresentable")
        json.string(problem)
        return true
    }

    func key(_ name: StaticString) {
        if firstMember { firstMember = false } else { json.comma() }
        json.raw("\"")
        json.raw(name)
        json.raw("\":")
    }

    func int(_ name: StaticString, _ value: Int64) {
        key(name)
        json.int(value)
    }

    func bool(_ name: StaticString, _ value: Bool) {
        key(name)
        json.bool(value)
    }

    func optionalInt(_ name: StaticString, _ row: Statement, _ column: Int32) {
        key(name)
        if row.isNull(column) { json.null() } else { json.int(row.int(column)) }
    }

    func time(_ name: StaticString, _ millis: Int64) {
        key(name)
        json.raw("\"")
        var bytes: [UInt8] = []
        Timestamp.appendISO8601(millis, to: &bytes)
        json.rawBytes(bytes)
        json.raw("\"")
    }

    func optionalTime(_ name: StaticString, _ row: Statement, _ column: Int32) {
        if row.isNull(column) {
            key(name)
            json.null()
        } else {
            time(name, row.int(column))
        }
    }

    /// A TEXT column as a JSON string (null when NULL and `optional`).
    func text(_ name: StaticString, _ row: Statement, _ column: Int32, optional: Bool = false) {
        key(name)
        if optional && row.isNull(column) { return json.null() }
        row.withBytes(column) { bytes in
            if UTF8Validation.isValid(bytes) {
                json.string(utf8: bytes)
            } else {
                json.string(String(decoding: bytes, as: UTF8.self))
                flag("\(name) is not valid UTF-8")
            }
        }
    }

    /// A TEXT column that holds serialized JSON, written as that JSON (null when NULL and `optional`).
    func storedJSON(_ name: StaticString, _ row: Statement, _ column: Int32, optional: Bool = false) {
        key(name)
        if optional && row.isNull(column) { return json.null() }
        row.withBytes(column) { bytes in
            if UTF8Validation.isValid(bytes), (try? JSONParser.parse(bytes)) != nil {
                json.rawBytes(bytes)
            } else {
                json.string(String(decoding: bytes, as: UTF8.self))
                flag("\(name) is not valid JSON")
            }
        }
    }

    private func flag(_ reason: String) {
        problem = problem.map { "\($0); \(reason)" } ?? reason
    }

    /// Takes what was written so far, leaving the buffer empty.
    func take(capacity: Int) -> [UInt8] {
        defer { json = JSONWriter(capacity: capacity) }
        return json.bytes
    }
}
