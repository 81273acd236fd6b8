import BrokerProtocol
import SessionCore
import Threading
import ZeroMQ

/// What other threads tell the dispatcher.
enum DispatchMessage: Sendable {
    /// Jobs queued or cancelled by committed writes.
    case notices([JobNotice])
    /// `job:wait`: answer when the job ends, or at the time-out.
    case wait(jobId: String, timeoutMs: Int64, client: ClientReply)
    /// `worker:list`.
    case listWorkers(ClientReply)
    /// A job's start was committed (or refused); the REQUEST for `worker` waits for this.
    case started(jobId: String, worker: ZMQFrame, request: [UInt8], stored: Result<[UInt8], RPCError>)
    /// A final transition of the dispatcher's own was committed (or refused).
    case finished(jobId: String, outcome: Result<[UInt8], RPCError>)
    /// An import committed: its unfinished jobs are queued again; `replacing` (a cleared database) forgets the rest.
    case restored([JobRecord], replacing: Bool)
    /// The clients directory was reloaded and took access away: workers are checked against it again.
    case keysChanged
}

/// The dispatcher's queue, with the eventfd that wakes its `zmq_poll`.
final class DispatchInbox: Sendable {
    private let queue = WorkQueue<DispatchMessage>()
    let wakeup = Wakeup()

    @discardableResult
    func post(_ message: DispatchMessage) -> Bool {
        let accepted = queue.push(message)
        wakeup.signal()
        return accepted
    }

    func drain() -> [DispatchMessage] { queue.takeAll() }

    func close() { queue.close() }
}
