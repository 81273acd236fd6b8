import BrokerProtocol
import Logging
import SessionCore
import Synchronization

/// Reports refusals (a log line and an `auth:denied` event), at most `burst` per `windowMs`.
///
/// A flood of refused handshakes or requests must not flood the log or the
/// event table: past the limit, refusals are only counted, and the next one
/// reported carries how many were left out (`suppressed`).
final class DenialReporter: Sendable {
    struct Denial: Sendable {
        /// `api`, `events` or `workers`.
        var endpoint: String
        /// The key's name, or the start of an unknown key.
        var key: String
        /// The method or service asked for; nil for a refused handshake.
        var method: String?
        var service: String?
        var reason: String
    }

    private struct Window {
        var startedAt: Int64 = 0
        var reported = 0
        var suppressed = 0
        /// When each refusal (endpoint, key, what, reason) was last reported.
        var lastReported: [String: Int64] = [:]
    }

    /// A refused agent retries every few seconds for as long as it runs: the same refusal is reported at most
    /// once per this interval, so one misconfigured worker does not grow the event table by thousands a day.
    let repeatMs: Int64 = 60_000

    let burst: Int
    let windowMs: Int64
    private let window = Mutex(Window())
    private let logger: Logger

    init(logger: Logger, burst: Int = 20, windowMs: Int64 = 10_000) {
        self.logger = logger
        self.burst = burst
        self.windowMs = windowMs
    }

    /// Logs `denial` and publishes it with `emit`, unless this window's share is used up.
    func report(
        _ denial: Denial, now: Int64 = Timestamp.monotonicMillis(), emit: (String, JSONObject) -> Void
    ) {
        let identity = "\(denial.endpoint)|\(denial.key)|\(denial.method ?? "")|\(denial.service ?? "")|\(denial.reason)"
        let suppressed: Int? = window.withLock { window in
            if now - window.startedAt >= windowMs {
                window.startedAt = now
                window.reported = 0
                window.lastReported = window.lastReported.filter { now - $0.value < repeatMs }
            }
            if let last = window.lastReported[identity], now - last < repeatMs {
                window.suppressed += 1
                return nil
            }
            guard window.reported < burst else {
                window.suppressed += 1
                return nil
            }
            window.reported += 1
            window.lastReported[identity] = now
            defer { window.suppressed = 0 }
            return window.suppressed
        }
        guard let suppressed else { return }
        var fields = JSONObject([
            ("endpoint", .string(denial.endpoint)), ("key", .string(denial.key)), ("reason", .string(denial.reason)),
        ])
        if let method = denial.method { fields["method"] = .string(method) }
        if let service = denial.service { fields["service"] = .string(service) }
        fields["suppressed"] = .int(Int64(suppressed))
        emit(Topic.authDenied, fields)
        let what = denial.method.map { " calling \($0)" } ?? denial.service.map { " serving '\($0)'" } ?? ""
        let more = suppressed > 0 ? " (\(suppressed) more refusals were not logged)" : ""
        logger.warning("auth: refused \(denial.key) on \(denial.endpoint)\(what): \(denial.reason)\(more)")
    }
}
