import Testing

@testable import SessionCore

/// `Timestamp.iso8601` and `Timestamp.parseISO8601`: the times every portable document carries.
@Suite("Timestamp parsing")
struct TimestampParsingTests {
    /// Known pairs (checked against Python's proleptic Gregorian datetime).
    static let known: [(EpochMillis, String)] = [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"),
        (-12_220_243_200_000, "1582-10-04T00:00:00.000Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        (951_827_696_789, "2000-02-29T12:34:56.789Z"),
        (1_709_251_199_000, "2024-02-29T23:59:59.000Z"),
        (1_795_447_722_123, "2026-11-23T15:28:42.123Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ]

    @Test("known times are written and read back exactly")
    func knownTimes() {
        for (millis, text) in Self.known {
            #expect(Timestamp.iso8601(millis) == text, "\(millis)")
            #expect(Timestamp.parseISO8601(text) == millis, "\(text)")
        }
    }

    @Test("iso8601 then parseISO8601 round-trips to the millisecond from year 0000 to 9999")
    func roundTrip() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let low: EpochMillis = -62_167_219_200_000
        let high: EpochMillis = 253_402_300_799_999
        var values: [EpochMillis] = [low, high, -86_400_000, 86_400_000 - 1, -999, -1_000, -1_001]
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(low + EpochMillis(state >> 17) % (high - low + 1))
        }
        for millis in values {
            let text = Timestamp.iso8601(millis)
            #expect(text.utf8.count == 24 && text.hasSuffix("Z"), "\(millis): \(text)")
            #expect(Timestamp.parseISO8601(text) == millis, "\(millis): \(text)")
        }
        // Written text sorts like the times (the backup's order by time is the order of the strings).
        let sorted = values.sorted()
        #expect(sorted.map(Timestamp.iso8601) == sorted.map(Timestamp.iso8601).sorted())
    }

    @Test("other forms: offsets, no milliseconds, more digits, a space for T, a bare date")
    func otherForms() {
        let base: EpochMillis = 1_795_447_722_123  // 2026-11-23T15:28:42.123Z
        let cases: [(String, EpochMillis)] = [
            ("2026-11-23T16:28:42.123+01:00", base),
            ("2026-11-23T09:58:42.123-05:30", base),
            ("2026-11-23T15:28:42.123+00:00", base),
            ("2026-11-23T15:28:42.123-00:00", base),
            ("2026-11-24T01:28:42.123+10:00", base),
            ("2026-11-23T15:28:42Z", base - 123),
            ("2026-11-23T15:28:42", base - 123),
            ("2026-11-23 15:28:42", base - 123),
            ("2026-11-23 15:28:42.123", base),
            ("2026-11-23T15:28:42.1Z", base - 23),
            ("2026-11-23T15:28:42.12Z", base - 3),
            ("2026-11-23T15:28:42.123456789Z", base),
            ("2026-11-23", base - 55_722_123),
            ("1969-12-31", -86_400_000),
            ("2026-11-23T00:00:00+01:00", base - 55_722_123 - 3_600_000),
        ]
        for (text, millis) in cases {
            #expect(Timestamp.parseISO8601(text) == millis, "\(text)")
        }
    }

    @Test("anything else is nil")
    func invalid() {
        for text in [
            "", "2026", "2026-11", "2026-11-2", "26-11-23", "2026-13-01", "2026-00-10", "2026-11-32", "2026-11-00",
            "2026-11-23T", "2026-11-23T15", "2026-11-23T15:28Z", "2026-11-23T24:00:00Z", "2026-11-23T15:60:00Z",
            "2026-11-23T15:28:42.Z", "2026-11-23T15:28:42+0100", "2026-11-23T15:28:42+01", "2026-11-23T15:28:42Zjunk",
            "2026-11-23T15:28:42.123 ", " 2026-11-23", "2026/11/23", "2026-11-23x", "2026-11-23Z", "yesterday",
            "1714557600000", "２０２６-11-23", "2026-11-23T15:28:42.123Z\n", "2026-1a-23",
        ] {
            #expect(Timestamp.parseISO8601(text) == nil, "\(text.debugDescription) parsed")
        }
    }

    @Test("days that do not exist are nil, not the next month")
    func impossibleDates() {
        // The day is checked against the month's length (leap years included), not only 1...31.
        for text in ["2026-02-30", "2025-02-29", "2026-04-31", "2100-02-29T00:00:00Z", "2026-06-31 12:00:00"] {
            #expect(
                Timestamp.parseISO8601(text) == nil,
                "\(text) parsed as \(Timestamp.parseISO8601(text).map(Timestamp.iso8601) ?? "")")
        }
        for text in ["2024-02-29", "2000-02-29", "2026-01-31", "2026-12-31"] {
            #expect(Timestamp.parseISO8601(text) != nil, "\(text)")
        }
    }

    @Test("every time iso8601 writes reads back, also past year 9999 and before year 0")
    func extremeYears() {
        // Years outside 0000-9999 use ISO 8601's expanded form (+10000, -0001), which the parser reads back.
        for millis: EpochMillis in [253_402_300_800_000, -62_167_219_200_001, -62_198_755_200_000] {
            let text = Timestamp.iso8601(millis)
            #expect(Timestamp.parseISO8601(text) == millis, "\(millis) is written \(text)")
        }
    }

    @Test("the representable range is exactly years -999999 to +999999, and its ends read back")
    func representableEnds() {
        let range = Timestamp.representable
        #expect(Timestamp.iso8601(range.lowerBound) == "-999999-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(range.upperBound) == "+999999-12-31T23:59:59.999Z")
        for millis in [range.lowerBound, range.lowerBound + 1, range.upperBound - 1, range.upperBound] {
            #expect(Timestamp.parseISO8601(Timestamp.iso8601(millis)) == millis, "\(millis)")
        }
        // Outside: the parser refuses, and the writer clamps to an end (never an unreadable 7-digit year).
        for text in [
            "-1000000-12-31T23:59:59.999Z", "+1000000-01-01T00:00:00.000Z", "-999999-01-01T00:00:00.000+00:01",
        ] {
            #expect(Timestamp.parseISO8601(text) == nil, "\(text)")
        }
        #expect(Timestamp.iso8601(Int64.min) == Timestamp.iso8601(range.lowerBound))
        #expect(Timestamp.iso8601(Int64.max) == Timestamp.iso8601(range.upperBound))
    }
}
