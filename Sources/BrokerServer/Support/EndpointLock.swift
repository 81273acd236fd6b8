#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on an `ipc://` endpoint's path, held while the broker runs.
///
/// libzmq lets a second process bind the same ipc path and silently takes it
/// over from the first; an `flock` on `<path>.lock` makes the second broker
/// fail instead. The kernel releases it if the broker dies.
final class EndpointLock: Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Locks an ipc endpoint; nil for other transports (tcp reports EADDRINUSE itself).
    static func acquire(_ endpoint: String) throws -> EndpointLock? {
        guard endpoint.hasPrefix("ipc://") else { return nil }
        let path = String(endpoint.dropFirst("ipc://".count)) + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BrokerStartError(message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw BrokerStartError(message: "the endpoint \(endpoint) is in use by another broker")
        }
        return EndpointLock(descriptor: descriptor)
    }
}
