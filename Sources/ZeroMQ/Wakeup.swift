import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A Linux eventfd that one thread signals and another thread polls with `ZMQPoller`.
///
/// It lets a thread that owns ZeroMQ sockets sleep in zmq_poll and still be
/// woken when another thread hands it work through a Swift queue, without a
/// second ZeroMQ socket per producer. `@unchecked Sendable` is safe: eventfd
/// reads and writes are atomic system calls, and the descriptor is closed
/// only in `deinit`, when no thread holds the object any more.
public final class Wakeup: @unchecked Sendable {
    /// The descriptor to give `ZMQPoller.add(fileDescriptor:)`.
    public let fileDescriptor: Int32

    public init() {
        fileDescriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(fileDescriptor >= 0, "eventfd failed: errno \(errno)")
    }

    deinit { close(fileDescriptor) }

    /// Wakes the polling thread (many signals before it wakes count as one).
    public func signal() {
        var one: UInt64 = 1
        _ = write(fileDescriptor, &one, 8)
    }

    /// Clears the signal; call it after waking, before draining the queue.
    public func reset() {
        var value: UInt64 = 0
        _ = read(fileDescriptor, &value, 8)
    }
}
