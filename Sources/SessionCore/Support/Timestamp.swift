#if canImport(Glibc)
    import Glibc
#endif

/// Milliseconds since the Unix epoch: how times are stored.
public typealias EpochMillis = Int64

/// Wall-clock time and its ISO 8601 form, without Foundation's formatters (which are slow and locale-bound).
public enum Timestamp {
    /// The current wall-clock time in milliseconds.
    public static func now() -> EpochMillis {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return EpochMillis(spec.tv_sec) * 1000 + EpochMillis(spec.tv_nsec) / 1_000_000
    }

    /// Monotonic milliseconds, for durations and uptime.
    public static func monotonicMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// The times the ISO 8601 forms here cover: years -999999 through +999999 (UTC).
    ///
    /// Years outside 0000–9999 use ISO 8601's expanded form (`+10000-01-01…`, `-0001-12-31…`);
    /// import refuses times outside this range rather than write one that cannot be read back.
    public static let representable: ClosedRange<EpochMillis> = -31_619_087_596_800_000...31_494_784_780_799_999

    /// `2026-11-23T15:28:42.123Z` for an epoch time in milliseconds (UTC).
    public static func iso8601(_ millis: EpochMillis) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendISO8601(millis, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the ISO 8601 form of `millis` as UTF-8, without building a String (hot paths write thousands).
    public static func appendISO8601(_ millis: EpochMillis, to bytes: inout [UInt8]) {
        // Clamped so the arithmetic below cannot overflow; nothing the broker stores lies outside.
        let millis = min(max(millis, representable.lowerBound), representable.upperBound)
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let ms = millis - seconds * 1000
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil-from-days (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        if year < 0 {
            bytes.append(UInt8(ascii: "-"))
        } else if year > 9999 {
            bytes.append(UInt8(ascii: "+"))
        }
        digits(abs(year), 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2, &bytes)
        bytes.append(UInt8(ascii: "."))
        digits(ms, 3, &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Appends `value` zero-padded to `width` digits (years past 9999 keep all their digits).
    private static func digits(_ value: Int64, _ width: Int, _ bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor * 10 <= value { divisor *= 10 }
        var rest = max(0, value)
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
