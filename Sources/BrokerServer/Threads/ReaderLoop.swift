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
            // An empty result is never a JSON reply: the job handed its answer to another thread (an import's commit).
            if case .success(let bytes) = result, bytes.isEmpty { continue }
            shared.outbox.post(Outgoing.from(result, job.envelope, id: job.id))
        }
    }
}
