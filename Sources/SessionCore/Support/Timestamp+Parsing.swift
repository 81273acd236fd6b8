extension Timestamp {
    /// Epoch milliseconds from `2026-11-23T15:28:42.123Z`, `2026-11-23T15:28:42+01:00`, `2026-11-23 15:28:42`
    /// (read as UTC) or a bare date `2026-11-23`, with ISO 8601's expanded years (`+10000-01-01`, `-0001-12-31`)
    /// within `representable`; nil for anything else, impossible dates such as `2026-02-30` included.
    ///
    /// The inverse of `iso8601(_:)` for every time it writes, so exported times round-trip to the millisecond.
    public static func parseISO8601(_ text: String) -> EpochMillis? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + width] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        var yearSign: Int64 = 0
        if expect("+") { yearSign = 1 } else if expect("-") { yearSign = -1 }
        var yearWidth = 4
        if yearSign != 0 {
            // Expanded years: a sign and 4 to 6 digits, as `iso8601` writes them.
            while yearWidth < 6, index + yearWidth < bytes.count, bytes[index + yearWidth] != UInt8(ascii: "-") {
                yearWidth += 1
            }
        }
        guard let unsignedYear = number(yearWidth), expect("-"), let month = number(2), expect("-"),
            let day = number(2), (1...12).contains(month)
        else { return nil }
        let year = yearSign < 0 ? -unsignedYear : unsignedYear
        guard (1...daysIn(month, of: year)).contains(day) else { return nil }
        var seconds: Int64 = 0
        var millis: Int64 = 0
        var offsetMinutes: Int64 = 0
        if index < bytes.count {
            guard bytes[index] == UInt8(ascii: "T") || bytes[index] == UInt8(ascii: " ") else { return nil }
            index += 1
            guard let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
                hour < 24, minute < 60, second < 61
            else { return nil }
            seconds = hour * 3600 + minute * 60 + second
            if expect(".") {
                var digits = 0
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    if digits < 3 { millis = millis * 10 + Int64(bytes[index] - 0x30) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 3) { millis *= 10 }
            }
            if expect("Z") {
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign: Int64 = bytes[index] == UInt8(ascii: "+") ? 1 : -1
                index += 1
                guard let hours = number(2), expect(":"), let minutes = number(2) else { return nil }
                offsetMinutes = sign * (hours * 60 + minutes)
            }
            guard index == bytes.count else { return nil }
        }
        let result = (daysFromCivil(year, month, day) * 86_400 + seconds - offsetMinutes * 60) * 1000 + millis
        return representable.contains(result) ? result : nil
    }

    private static func daysIn(_ month: Int64, of year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
