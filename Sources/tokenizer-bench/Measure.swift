import Foundation

/// Timing, memory and threading helpers for the benchmark. Figures only:
/// nothing here asserts, because machine load makes any threshold flaky.
enum Measure {
    /// Seconds taken by `body`, with its result.
    static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = ContinuousClock.now
        let value = try body()
        return (value, seconds(ContinuousClock.now - start))
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Resident set size in bytes from /proc/self/statm (Linux); nil elsewhere.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1e6) }

    /// Runs each job on its own `Thread` at once and returns the wall time
    /// until all have finished, plus their results in order.
    static func onThreads(_ jobs: [@Sendable () -> Int]) -> ([Int], Double) {
        let box = ResultBox(count: jobs.count)
        let done = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        for (index, job) in jobs.enumerated() {
            let thread = Thread {
                go.wait()  // start together so the wall time is the parallel time
                box.set(index, job())
                done.signal()
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        let start = ContinuousClock.now
        for _ in jobs { go.signal() }
        for _ in jobs { done.wait() }
        return (box.values, seconds(ContinuousClock.now - start))
    }
}

/// Lock-protected results written by the benchmark threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int]

    init(count: Int) { storage = Array(repeating: 0, count: count) }

    func set(_ index: Int, _ value: Int) {
        lock.lock(); storage[index] = value; lock.unlock()
    }

    var values: [Int] {
        lock.lock(); defer { lock.unlock() }
        return storage
    }
}
