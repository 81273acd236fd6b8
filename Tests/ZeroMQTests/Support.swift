import Foundation

/// A string a background thread sets, waited for with a deadline.
final class ResultBox: @unchecked Sendable {
    // @unchecked Sendable: `value` is guarded by `condition`.
    private let condition = NSCondition()
    private var value = ""

    func set(_ newValue: String) {
        condition.lock()
        value = newValue
        condition.broadcast()
        condition.unlock()
    }

    func wait(for expected: String, seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while value != expected {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }
}
