import BrokerProtocol

/// A persisted event: its sequence number, topic and serialized body.
///
/// The body is self-describing (`{seq, topic, at, ...subject ids}`) so a
/// replay from `events:since` and a live PUB message carry the same bytes.
public struct Event: Sendable {
    public let seq: Int64
    public let topic: String
    public let body: [UInt8]

    public init(seq: Int64, topic: String, body: [UInt8]) {
        self.seq = seq
        self.topic = topic
        self.body = body
    }

    /// Serializes a body from its fields, putting `seq`, `topic` and `at` first.
    public static func body(seq: Int64, topic: String, at: EpochMillis, fields: JSONObject) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{\"seq\":")
        writer.int(seq)
        writer.raw(",\"topic\":")
        writer.string(topic)
        writer.raw(",\"at\":")
        writer.timestamp(at)
        for (key, value) in fields {
            writer.comma()
            writer.key(key)
            writer.value(value)
        }
        writer.raw("}")
        return writer.bytes
    }
}

/// The topics the session core publishes.
public enum Topic {
    public static let sessionCreated = "session:created"
    public static let sessionMessage = "session:message"
    public static let sessionCleared = "session:cleared"
    public static let sessionUpdated = "session:updated"
    public static let sessionDeleted = "session:deleted"
    public static let checkpointUpdated = "checkpoint:updated"
}

extension JSONWriter {
    /// Writes an epoch time as a quoted ISO 8601 string.
    public mutating func timestamp(_ millis: EpochMillis) {
        var text: [UInt8] = [UInt8(ascii: "\"")]
        text.reserveCapacity(26)
        Timestamp.appendISO8601(millis, to: &text)
        text.append(UInt8(ascii: "\""))
        rawBytes(text)
    }
}

/// Formats many timestamps fast: times within the same second share their first 20 characters.
public struct TimestampCache {
    private var second: Int64 = .min
    private var prefix: [UInt8] = []

    public init() {}

    /// Writes `millis` as a quoted ISO 8601 string.
    public mutating func write(_ millis: EpochMillis, to writer: inout JSONWriter) {
        let currentSecond = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        if currentSecond != second {
            var formatted: [UInt8] = [UInt8(ascii: "\"")]
            Timestamp.appendISO8601(currentSecond * 1000, to: &formatted)
            prefix = Array(formatted.dropLast(4))  // drop "000Z", keep `"2026-11-23T15:28:42.`
            second = currentSecond
        }
        let ms = Int(millis - currentSecond * 1000)
        writer.rawBytes(prefix)
        writer.rawBytes([
            UInt8(ascii: "0") + UInt8(ms / 100), UInt8(ascii: "0") + UInt8(ms / 10 % 10),
            UInt8(ascii: "0") + UInt8(ms % 10),
            UInt8(ascii: "Z"), UInt8(ascii: "\""),
        ])
    }
}
