import BrokerProtocol
import SessionCore
import Threading

#if canImport(Glibc)
    import Glibc
#endif

/// A compaction to run, automatic or asked for.
struct CompactionJob: Sendable {
    enum Kind: Sendable {
        case auto
        /// `session:compact`: swap, then answer the client.
        case manual(instructions: String?)
        /// `session:previewCompaction`: summarise and answer; nothing is written.
        case dryRun(instructions: String?)
    }

    var sessionId: String
    var kind: Kind
    /// Where the answer goes, for a client's request (nil for an automatic one).
    var client: ClientReply?
    /// `session:compact`'s `requestId`, if the client gave one.
    var requestId: String?
    /// 1 for the first try; later tries of an automatic compaction come back with 2, 3...
    var attempt = 1

    var reason: CompactionReason {
        if case .auto = kind { return .auto }
        return .manual
    }

    var instructions: String? {
        switch kind {
        case .auto: nil
        case .manual(let text), .dryRun(let text): text
        }
    }

    var isDryRun: Bool {
        if case .dryRun = kind { return true }
        return false
    }
}

/// The routing of a client's request, to answer it later from another thread.
struct ClientReply: Sendable {
    var envelope: Envelope
    var id: JSON
}

/// The queue of compactions and the sessions that have one queued or running.
///
/// The set is what keeps compactions of one session one at a time: a trigger
/// for a session already in it is dropped (the running compaction covers it),
/// and `session:compact` is answered `conflict`. Dry runs write nothing and
/// are not counted. `@unchecked Sendable`: `active` is only touched with
/// `mutex` held; the queue is itself thread-safe.
final class CompactionCoordinator: @unchecked Sendable {
    let queue = WorkQueue<CompactionJob>()
    private var mutex = pthread_mutex_t()
    private var active: Set<String> = []

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    /// Queues an automatic compaction unless one of the session is queued or running.
    func requestAuto(_ sessionId: String) {
        guard claim(sessionId) else { return }
        if !queue.push(CompactionJob(sessionId: sessionId, kind: .auto)) { release(sessionId) }
    }

    /// Queues a client's compaction or dry run; false if the session already has a compaction.
    func submit(_ job: CompactionJob) -> Bool {
        if !job.isDryRun {
            guard claim(job.sessionId) else { return false }
        }
        guard queue.push(job) else {
            if !job.isDryRun { release(job.sessionId) }
            return false
        }
        return true
    }

    /// Called when a session's compaction is over (done, failed for good, or abandoned).
    func release(_ sessionId: String) {
        pthread_mutex_lock(&mutex)
        active.remove(sessionId)
        pthread_mutex_unlock(&mutex)
    }

    private func claim(_ sessionId: String) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return active.insert(sessionId).inserted
    }
}
