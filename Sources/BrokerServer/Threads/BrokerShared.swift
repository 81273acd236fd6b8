import BrokerProtocol
import SessionCore
import Synchronization
import Threading

/// What the broker's threads share: settings, the queues between them, and the stop signal.
///
/// Everything here is immutable or itself thread-safe, hence `Sendable`.
final class BrokerShared: Sendable {
    let configuration: BrokerConfiguration
    let database: DatabaseFile
    let counter: any TokenCounter
    /// CURVE keys and authorization; nil for a broker without keys (protected mode: this host only).
    let security: BrokerSecurity?
    let writeQueue = WorkQueue<WriteJob>()
    let readQueue = WorkQueue<ReadJob>()
    let outbox = Outbox()
    let compactions = CompactionCoordinator()
    /// Messages for the dispatcher thread (workers and jobs).
    let dispatch = DispatchInbox()
    /// Exports and imports in progress.
    let transfers = TransferRegistry()
    /// Set once when shutdown begins.
    let stopRequested = Latch<Bool>()
    /// Set once every thread but the ZAP handler has ended: the handler answers handshakes until then.
    let zapStop = Latch<Bool>()
    let startedAt = Timestamp.monotonicMillis()
    /// Transactions the writer committed, and the writes in them (their ratio is the group-commit batch size).
    let commits = Atomic<Int>(0)
    let committedWrites = Atomic<Int>(0)

    init(
        configuration: BrokerConfiguration, database: DatabaseFile, counter: any TokenCounter,
        security: BrokerSecurity? = nil
    ) {
        self.configuration = configuration
        self.database = database
        self.counter = counter
        self.security = security
    }

    /// Records and publishes an event of the broker's own through the writer, so it gets its sequence number.
    func emit(_ topic: String, _ fields: JSONObject) {
        _ = writeQueue.push(
            WriteJob(envelope: [], id: .null, command: .emitEvent(topic: topic, fields: fields), onCommit: { _ in }))
    }

    /// Reports a refusal (rate-limited log line and `auth:denied` event).
    func deny(_ denial: DenialReporter.Denial) {
        security?.denials.report(denial, emit: emit)
    }
}
