import SessionCore

/// What the broker's threads share: settings, the queues between them, and the stop signal.
///
/// Everything here is immutable or itself thread-safe, hence `Sendable`.
final class BrokerShared: Sendable {
    let configuration: BrokerConfiguration
    let database: DatabaseFile
    let counter: any TokenCounter
    let readQueue = WorkQueue<ReadJob>()
    let outbox = Outbox()
    /// Set once when shutdown begins.
    let stopRequested = Latch<Bool>()
    let startedAt = Timestamp.monotonicMillis()

    init(configuration: BrokerConfiguration, database: DatabaseFile, counter: any TokenCounter) {
        self.configuration = configuration
        self.database = database
        self.counter = counter
    }
}
