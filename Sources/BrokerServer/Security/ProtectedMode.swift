/// Protected mode: without CURVE keys the broker serves only this host.
///
/// Like Redis's protected mode, a broker with no keys refuses to start when an
/// endpoint would be reachable from other hosts, so a careless `--api
/// tcp://0.0.0.0:5555` never exposes every session. `--insecure` overrides it.
enum ProtectedMode {
    /// Refuses the first endpoint that is not loopback, `ipc://` or `inproc://`, naming it and the fixes.
    static func check(_ configuration: BrokerConfiguration) throws(BrokerStartError) {
        let endpoints = [
            ("api", configuration.apiEndpoint), ("events", configuration.eventsEndpoint),
            ("workers", configuration.workersEndpoint),
        ]
        for (role, endpoint) in endpoints where !isLocal(endpoint) {
            throw BrokerStartError(
                message: "protected mode: the \(role) endpoint \(endpoint) is reachable from other hosts and the broker "
                    + "has no CURVE keys; give --curve-secret-key and --curve-clients (README: Securing a broker), "
                    + "bind 127.0.0.1 or ipc://, or pass --insecure to serve it unauthenticated")
        }
    }

    /// The endpoints no other host can reach: `ipc://`, `inproc://`, and tcp on 127.0.0.0/8, `localhost`,
    /// `::1` or the loopback interface `lo`. Everything else (`*`, `0.0.0.0`, a host name, an interface) is not.
    static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let address = endpoint.dropFirst("tcp://".count)
        guard let colon = address.lastIndex(of: ":") else { return false }
        var host = address[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host == "localhost" || host == "lo" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in UInt8(octet) != nil }
    }
}
