#if canImport(Glibc)
    import Glibc
#endif

/// A FIFO handed between threads: producers push, a consumer takes everything queued at once.
///
/// Taking the whole backlog in one call is what makes group commit work: the
/// writer commits all writes that queued while it was busy in one transaction.
/// `@unchecked Sendable` is safe because every access to `items` and
/// `closed` happens with `mutex` held.
public final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var items: [Item] = []
    private var closed = false

    public init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Adds an item; false if the queue is closed (the item is not taken).
    @discardableResult
    public func push(_ item: Item) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard !closed else { return false }
        items.append(item)
        pthread_cond_signal(&condition)
        return true
    }

    /// Adds several items under one lock; false if the queue is closed.
    @discardableResult
    public func push(contentsOf newItems: [Item]) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard !closed else { return false }
        items.append(contentsOf: newItems)
        pthread_cond_broadcast(&condition)
        return true
    }

    /// Takes everything queued now without waiting (possibly nothing).
    public func takeAll() -> [Item] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let batch = items
        items.removeAll(keepingCapacity: true)
        return batch
    }

    /// Waits for items and takes up to `max` of them; an empty result means closed and drained.
    public func popBatch(max: Int = Int.max) -> [Item] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while items.isEmpty && !closed { pthread_cond_wait(&condition, &mutex) }
        if items.count <= max {
            let batch = items
            items.removeAll(keepingCapacity: true)
            return batch
        }
        let batch = Array(items.prefix(max))
        items.removeFirst(max)
        pthread_cond_signal(&condition)  // more left: let another consumer take it
        return batch
    }

    /// Waits for one item; nil means closed and drained.
    public func pop() -> Item? {
        popBatch(max: 1).first
    }

    /// Waits up to `milliseconds` for one item: `.item`, `.timedOut`, or `.closed` once closed and drained.
    public func pop(waitingAtMost milliseconds: Int) -> Popped {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        var deadline = realtimeDeadline(afterMilliseconds: milliseconds)
        while items.isEmpty && !closed {
            if pthread_cond_timedwait(&condition, &mutex, &deadline) == ETIMEDOUT { break }
        }
        if !items.isEmpty { return .item(items.removeFirst()) }
        return closed ? .closed : .timedOut
    }

    public enum Popped {
        case item(Item)
        case timedOut
        case closed
    }

    /// Stops accepting items; consumers drain what is left, then get empty batches.
    public func close() {
        pthread_mutex_lock(&mutex)
        closed = true
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Items waiting now.
    public var count: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return items.count
    }
}
