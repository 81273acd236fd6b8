import BrokerProtocol
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

/// Export and import of a database of `messages` messages with the real `broker` and `brokerctl` processes,
/// and a trace-bundle export next to `gzip -1` on the same bytes.
///
/// Prints wall time, MB/s and the peak resident memory (VmHWM) of brokerctl and of the broker during each
/// phase. Needs the release products: `swift build -c release` first (this bench runs them beside itself).
func runPortabilityBench(messages: Int) throws {
    let binaries = String(
        CommandLine.arguments[0].split(separator: "/", omittingEmptySubsequences: false)
            .dropLast().joined(separator: "/"))
    let broker = binaries + "/broker"
    let brokerctl = binaries + "/brokerctl"
    guard access(broker, X_OK) == 0, access(brokerctl, X_OK) == 0 else {
        return print("portability: \(broker) and \(brokerctl) are needed: run `swift build -c release` first")
    }
    let directory = makeTemporaryDirectory()
    defer { if ProcessIO.environment("KEEP_BENCH_FILES") == nil { removeDirectory(directory) } }
    let counter = TokenCounterLoader.loadDefault().counter
    let sessions = 100
    print("portability: filling a database with \(messages) messages in \(sessions) sessions...")
    let fillStart = nowMicros()
    try fillDatabase(directory + "/source.db", sessions: sessions, messages: messages, counter: counter)
    print("portability: filled in \(format((nowMicros() - fillStart) / 1e6)) s")

    let source = try BrokerProcess(binary: broker, database: directory + "/source.db", port: 7_100)
    defer { source.stop() }
    let backup = directory + "/backup.json"
    source.resetPeak()
    let export = try run(brokerctl, ["export", backup, "--api", source.api, "--timeout", "600"])
    let backupBytes = fileSize(backup)
    report(
        "export (brokerctl export)", seconds: export.seconds, bytes: backupBytes, clientPeak: export.peakKiB,
        brokerPeak: source.peakKiB())

    let target = try BrokerProcess(binary: broker, database: directory + "/target.db", port: 7_200)
    defer { target.stop() }
    target.resetPeak()
    let restore = try run(brokerctl, ["import", backup, "--api", target.api, "--timeout", "600"])
    report(
        "import (brokerctl import, fresh broker)", seconds: restore.seconds, bytes: backupBytes,
        clientPeak: restore.peakKiB, brokerPeak: target.peakKiB())

    let bundle = directory + "/traces.jsonl.gz"
    source.resetPeak()
    let traces = try run(brokerctl, ["traces", "export", "--out", bundle, "--api", source.api, "--timeout", "600"])
    let raw = directory + "/traces.jsonl"
    _ = try run("/bin/sh", ["-c", "gunzip -c '\(bundle)' > '\(raw)'"])
    let rawBytes = fileSize(raw)
    report(
        "trace bundle (brokerctl traces export, zlib level 1)", seconds: traces.seconds, bytes: rawBytes,
        clientPeak: traces.peakKiB, brokerPeak: source.peakKiB())
    let gzip = try run("/bin/sh", ["-c", "gzip -1 -c '\(raw)' > '\(directory)/baseline.gz'"])
    let tracesRate = Double(rawBytes) / 1e6 / traces.seconds
    let gzipRate = Double(rawBytes) / 1e6 / gzip.seconds
    print(
        "  gzip -1 on the same \(format(Double(rawBytes) / 1e6)) MB: \(format(gzip.seconds)) s, "
            + "\(format(gzipRate)) MB/s; traces export runs at \(format(tracesRate / gzipRate))x gzip -1 "
            + "(bundle \(format(Double(fileSize(bundle)) / 1e6)) MB, gzip -1 \(format(Double(fileSize(directory + "/baseline.gz")) / 1e6)) MB)"
    )
}

private func report(_ name: String, seconds: Double, bytes: Int64, clientPeak: Int64, brokerPeak: Int64) {
    print(
        "  \(name): \(format(seconds)) s, \(format(Double(bytes) / 1e6)) MB, \(format(Double(bytes) / 1e6 / seconds)) MB/s; "
            + "peak memory: brokerctl \(clientPeak / 1024) MiB, broker \(brokerPeak / 1024) MiB")
}

/// Sessions and messages written straight through the writer (the way the broker stores them), in big batches.
private func fillDatabase(_ path: String, sessions: Int, messages: Int, counter: any TokenCounter) throws {
    let file = try DatabaseFile(path: path, syncMode: .normal)
    let writer = try SessionWriter(connection: try file.openWriter(), counter: counter, defaultTokenLimit: 10_000_000)
    let checkpointer = try file.openReader()
    try writer.beginBatch()
    var ids: [String] = []
    for index in 0..<sessions {
        let create = try CreateSession(
            params: Params(["type": "dev", "featureId": .string("f\(index % 10)"), "tokenLimit": 10_000_000]))
        ids.append(try JSONParser.parse(try writer.apply(.createSession(create)).get())["sessionId"]!.stringValue!)
    }
    _ = try writer.commitBatch()
    var index = 0
    while index < messages {
        try writer.beginBatch()
        for offset in index..<min(messages, index + 5_000) {
            var add = try AddMessage(
                params: Params([
                    "sessionId": .string(ids[offset % sessions]), "role": offset % 2 == 0 ? "user" : "assistant",
                    "content": .string("\(sampleContent)(\(offset))"),
                ]), maxContentBytes: 1 << 20)
            add.countTokens(with: counter)
            _ = try writer.apply(.addMessage(add))
        }
        _ = try writer.commitBatch()
        index += 5_000
        try checkpointer.checkpoint()
    }
}

private func fileSize(_ path: String) -> Int64 {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : 0
}

/// A finished child: wall time and its own peak resident memory.
private struct ChildRun {
    let seconds: Double
    let peakKiB: Int64
}

private func spawn(_ path: String, _ arguments: [String], output: Int32? = nil) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let devNull = open("/dev/null", O_WRONLY)
    defer { close(devNull) }
    posix_spawn_file_actions_adddup2(&actions, output ?? devNull, STDOUT_FILENO)
    posix_spawn_file_actions_adddup2(&actions, devNull, STDERR_FILENO)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard status == 0 else { throw BenchError("cannot start \(path): \(String(cString: strerror(status)))") }
    return pid
}

/// Runs a child to its end; its peak memory is its VmHWM, read every 10 ms while it runs.
///
/// Not wait4's `ru_maxrss`: posix_spawn starts the child in this process's address space (vfork), so that
/// figure is this bench's own resident size whenever the child stays smaller.
private func run(_ path: String, _ arguments: [String]) throws -> ChildRun {
    let start = nowMicros()
    let pid = try spawn(path, arguments)
    var status: Int32 = 0
    var peak: Int64 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        peak = max(peak, highWaterMarkKiB(pid))
        usleep(10_000)
    }
    let seconds = (nowMicros() - start) / 1e6
    guard status == 0 else { throw BenchError("\(path) \(arguments.joined(separator: " ")) failed (status \(status))") }
    return ChildRun(seconds: seconds, peakKiB: peak)
}

/// A process's peak resident memory (VmHWM) in KiB, from /proc; 0 once it is gone.
private func highWaterMarkKiB(_ pid: pid_t) -> Int64 {
    guard let file = fopen("/proc/\(pid)/status", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmHWM:") {
            return Int64(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
    }
    return 0
}

/// A real broker process on loopback ports; its peak memory read from /proc.
private final class BrokerProcess {
    let pid: pid_t
    let api: String

    init(binary: String, database: String, port: Int) throws {
        api = "tcp://127.0.0.1:\(port)"
        pid = try spawn(
            binary,
            [
                "--db", database, "--api", api, "--events", "tcp://127.0.0.1:\(port + 1)", "--workers",
                "tcp://127.0.0.1:\(port + 2)", "--log-level", "error",
            ])
        // Ready when it answers a ping.
        for _ in 0..<100 {
            usleep(100_000)
            if pingable() { return }
        }
        throw BenchError("the broker on \(api) did not start")
    }

    private func pingable() -> Bool {
        let brokerctl =
            String(
                CommandLine.arguments[0].split(separator: "/", omittingEmptySubsequences: false)
                    .dropLast().joined(separator: "/")) + "/brokerctl"
        return (try? run(brokerctl, ["ping", "--api", api, "--retries", "1", "--timeout", "0.5"])) != nil
    }

    /// Resets the kernel's high-water mark so the next `peakKiB` covers only what follows.
    func resetPeak() {
        let file = open("/proc/\(pid)/clear_refs", O_WRONLY)
        guard file >= 0 else { return }
        _ = write(file, "5", 1)
        close(file)
    }

    func peakKiB() -> Int64 { highWaterMarkKiB(pid) }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
