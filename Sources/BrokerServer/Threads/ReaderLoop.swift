import BrokerProtocol
import SessionCore

/// A reader thread: answers read requests from its own SQLite connection.
final class ReaderLoop {
    let shared: BrokerShared
    let reader: SessionReader

    init(shared: BrokerShared, reader: SessionReader) {
        self.shared = shared
        self.reader = reader
    }

    func run() {
        while let job = shared.readQueue.pop() {
            let result: Result<[UInt8], RPCError>
            do throws(RPCError) {
                result = .success(try job.run(reader))
            } catch {
                result = .failure(error)
            }
            reader.finish()
            shared.outbox.post(Outgoing.from(result, job.envelope, id: job.id))
        }
    }
}
