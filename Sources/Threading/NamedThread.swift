import CSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a named OS thread for a long-lived loop that blocks (ZeroMQ, SQLite).
///
/// Such loops must never run on Swift's cooperative pool: it has two threads
/// on these machines, and a blocked one stalls every task. The name shows in
/// `top -H` and `perf`.
public final class NamedThread: @unchecked Sendable {
    // @unchecked Sendable: `done` is a thread-safe Latch and `name` is immutable.
    public let name: String
    private let done = Latch<Bool>()

    /// Starts `body` on a new thread named `name`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        let box = Unmanaged.passRetained(ThreadBody(name: name, done: done, run: body))
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { context in
                let body = Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue()
                _ = csystem_set_thread_name(body.name)
                body.runOnce()
                return nil
            }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
    }

    /// Waits until the thread's body has returned.
    public func join() { _ = done.wait() }

}

private final class ThreadBody {
    let name: String
    let done: Latch<Bool>
    var run: (() -> Void)?

    init(name: String, done: Latch<Bool>, run: @escaping () -> Void) {
        self.name = name
        self.done = done
        self.run = run
    }

    /// Runs the body, then drops it (and everything it captured) before reporting the thread done,
    /// so that after `join()` nothing of the thread still holds a database or socket alive.
    func runOnce() {
        run?()
        run = nil
        done.set(true)
    }
}
