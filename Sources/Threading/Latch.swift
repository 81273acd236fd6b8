#if canImport(Glibc)
    import Glibc
#endif

/// A one-shot value a thread sets and other threads wait for (start-up results, stop requests).
///
/// `@unchecked Sendable`: `value` is only touched with `mutex` held.
public final class Latch<Value: Sendable>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var value: Value?

    public init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Sets the value once; later calls are ignored.
    public func set(_ newValue: Value) { trySet(newValue) }

    /// Sets the value if it is unset; true if this call set it.
    @discardableResult
    public func trySet(_ newValue: Value) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard value == nil else { return false }
        value = newValue
        pthread_cond_broadcast(&condition)
        return true
    }

    /// Waits for the value.
    public func wait() -> Value {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while value == nil { pthread_cond_wait(&condition, &mutex) }
        return value!
    }

    /// Waits up to `milliseconds`; nil if the value is still unset.
    public func wait(milliseconds: Int) -> Value? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        var deadline = realtimeDeadline(afterMilliseconds: milliseconds)
        while value == nil {
            if pthread_cond_timedwait(&condition, &mutex, &deadline) == ETIMEDOUT { break }
        }
        return value
    }

    /// The value if set, without waiting.
    public var current: Value? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return value
    }
}

/// The CLOCK_REALTIME time `milliseconds` from now, as `pthread_cond_timedwait` takes it.
func realtimeDeadline(afterMilliseconds milliseconds: Int) -> timespec {
    var deadline = timespec()
    clock_gettime(CLOCK_REALTIME, &deadline)
    let nanos = Int(deadline.tv_nsec) + (milliseconds % 1000) * 1_000_000
    deadline.tv_sec += milliseconds / 1000 + nanos / 1_000_000_000
    deadline.tv_nsec = nanos % 1_000_000_000
    return deadline
}
