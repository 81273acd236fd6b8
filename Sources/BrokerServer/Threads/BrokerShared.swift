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
    let startedAt = Timestamp.monotonicMillis()
    /// Transactions the writer committed, and the writes in them (their ratio is the group-commit batch size).
    let commits = Atomic<Int>(0)
    let committedWrites = Atomic<Int>(0)

    init(configuration: BrokerConfiguration, database: DatabaseFile, counter: any TokenCounter) {
        self.configuration = configuration
        self.database = database
        self.counter = counter
    }
}
