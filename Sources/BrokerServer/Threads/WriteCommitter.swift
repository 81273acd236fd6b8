import BrokerProtocol
import Logging
import SQLite
import SessionCore
import ZeroMQ

/// Group commit on the loop thread: every write drained from the ROUTER in one pass commits in one
/// transaction, then its events are published and its replies returned for sending.
///
/// Replies leave only after COMMIT returns (DESIGN.md rule 2). Doing this on
/// the thread that owns the ROUTER saves two thread hand-offs per write,
/// which on two cores cost more than the insert itself. Requests that arrive
/// during a commit queue in the socket and form the next, larger batch.
final class WriteCommitter {
    let writer: SessionWriter
    let connection: Connection
    let publisher: ZMQSocket
    let logger: Logger
    /// Writes per transaction at most, so one huge backlog does not delay its first replies.
    static let maxBatch = 2_048

    init(connection: Connection, writer: SessionWriter, publisher: ZMQSocket, logger: Logger) {
        self.connection = connection
        self.writer = writer
        self.publisher = publisher
        self.logger = logger
    }

    /// Commits `batch` and returns one reply per job, in order.
    func commit(_ batch: [WriteJob]) -> [Outgoing] {
        guard !batch.isEmpty else { return [] }
        var replies: [Outgoing] = []
        replies.reserveCapacity(batch.count)
        do {
            try writer.beginBatch()
            for job in batch { replies.append(Outgoing.from(try writer.apply(job.command), job.envelope, id: job.id)) }
            let events = try writer.commitBatch()
            publish(events)
            return replies
        } catch {
            // Nothing of this batch is on disk: every write in it fails, none is half-done.
            writer.rollbackBatch()
            logger.error("writer: transaction failed, \(batch.count) writes rolled back: \(error)")
            let kind: ErrorKind = error.isDiskFull || error.isBusy ? .unavailable : .internal
            let failure = RPCError(kind, "the write was not stored: \(error.message)")
            return batch.map { .error($0.envelope, id: $0.id, failure) }
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

    /// Copies the whole WAL into the database and closes the event socket (at shutdown).
    func close() {
        do {
            connection.resetAll()
            try DatabaseFile.checkpoint(connection, truncate: true)
        } catch {
            logger.warning("writer: final WAL checkpoint failed: \(error)")
        }
        publisher.close()
    }
}
