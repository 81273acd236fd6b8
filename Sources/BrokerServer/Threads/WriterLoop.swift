import BrokerProtocol
import Logging
import SQLite
import SessionCore
import ZeroMQ

/// The writer thread: group-commits every queued write, then publishes its events and posts its replies.
///
/// Replies leave only after COMMIT returns (DESIGN.md rule 2). It also owns
/// the PUB socket, because events exist only once their transaction commits.
final class WriterLoop {
    let shared: BrokerShared
    let writer: SessionWriter
    let connection: Connection
    let publisher: ZMQSocket
    let logger: Logger
    /// Writes per transaction at most, so one huge backlog does not delay its first replies.
    static let maxBatch = 1_024

    init(shared: BrokerShared, connection: Connection, writer: SessionWriter, publisher: ZMQSocket, logger: Logger) {
        self.shared = shared
        self.connection = connection
        self.writer = writer
        self.publisher = publisher
        self.logger = logger
    }

    func run() {
        while true {
            let batch = shared.writeQueue.popBatch(max: Self.maxBatch)
            if batch.isEmpty { break }  // closed and drained
            let (replies, events) = commit(batch)
            publish(events)
            shared.outbox.post(replies)
        }
        do {
            try DatabaseFile.checkpoint(connection, truncate: true)
        } catch {
            logger.warning("writer: final WAL checkpoint failed: \(error)")
        }
        publisher.close()
    }

    private func commit(_ batch: [WriteJob]) -> ([Outgoing], [Event]) {
        var results: [Result<[UInt8], RPCError>] = []
        results.reserveCapacity(batch.count)
        do {
            try writer.beginBatch()
            for job in batch { results.append(try writer.apply(job.command)) }
            let events = try writer.commitBatch()
            return (zip(batch, results).map { Outgoing.from($1, $0.envelope, id: $0.id) }, events)
        } catch {
            // Nothing of this batch is on disk: every write in it fails, none is half-done.
            writer.rollbackBatch()
            logger.error("writer: transaction failed, \(batch.count) writes rolled back: \(error)")
            let kind: ErrorKind = error.isDiskFull || error.isBusy ? .unavailable : .internal
            let failure = RPCError(kind, "the write was not stored: \(error.message)")
            return (batch.map { .error($0.envelope, id: $0.id, failure) }, [])
        }
    }

    private func publish(_ events: [Event]) {
        for event in events {
            do {
                try publisher.send([Array(event.topic.utf8), event.body], dontWait: true)
            } catch {
                // PUB never blocks; a send error here only means no subscriber could take it.
                logger.debug("writer: event \(event.seq) not published: \(error)")
            }
        }
    }
}
