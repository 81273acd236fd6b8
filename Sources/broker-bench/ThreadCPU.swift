#if canImport(Glibc)
    import Glibc
#endif

/// CPU time used so far by each thread of this process, by thread name, from /proc/self/task.
func threadCPU() -> [String: Double] {
    var totals: [String: Double] = [:]
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    guard let directory = opendir("/proc/self/task") else { return totals }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard Int(name) != nil, let stat = readText("/proc/self/task/\(name)/stat") else { continue }
        // Format: tid (comm) state ... field 14 utime, 15 stime (1-based), counted after the closing parenthesis.
        guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
        var comm = String(stat[stat.index(after: open)..<close])
        if comm.hasPrefix("client") { comm = "clients" }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        totals[comm, default: 0] += (user + system) / ticks
    }
    return totals
}

private func readText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [UInt8](repeating: 0, count: 1024)
    let count = fread(&buffer, 1, buffer.count, file)
    return String(decoding: buffer[0..<count], as: UTF8.self)
}

/// "thread: N us" per message for the threads that used CPU between two snapshots.
func cpuPerMessage(before: [String: Double], after: [String: Double], messages: Int) -> String {
    after.keys.sorted().compactMap { name in
        let used = (after[name] ?? 0) - (before[name] ?? 0)
        guard used > 0.005 else { return nil }
        return "\(name) \(format(used / Double(messages) * 1_000_000))"
    }.joined(separator: ", ")
}
