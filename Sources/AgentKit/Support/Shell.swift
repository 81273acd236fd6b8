import Foundation

/// What a finished (or killed) command left behind.
public struct CommandRun: Sendable {
    public var exitCode: Int32
    public var timedOut: Bool
    public var durationMs: Int64
    /// Standard output and standard error, interleaved as written.
    public var output: String

    public var succeeded: Bool { exitCode == 0 && !timedOut }

    /// The last `limit` characters of the output, for reports (a failing test's end says why).
    public func tail(_ limit: Int = 2_000) -> String {
        output.count <= limit ? output : "…" + String(output.suffix(limit))
    }
}

/// Runs programs with a time-out, for git and for a task's checks.
public enum Shell {
    /// Runs `arguments[0]` (found on PATH) in `directory`; never throws: a program that cannot start exits 127.
    public static func run(
        _ arguments: [String], in directory: String? = nil, timeoutMs: Int64 = 120_000, input: String? = nil,
        environment: [String: String] = [:]
    ) -> CommandRun {
        let started = Date()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do { try process.run() } catch {
            return CommandRun(
                exitCode: 127, timedOut: false, durationMs: 0, output: "cannot run \(arguments): \(error)")
        }
        let collected = OutputBuffer()
        let reader = Thread { collected.set(output.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        if let input {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let deadline = started.addingTimeInterval(Double(timeoutMs) / 1000)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            // Foundation starts the child as a process group leader and notices its exit only once every
            // descendant has let go of its pipes: the whole group goes, or a check's `sleep` outlives it.
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        // A grandchild still holding the pipe must not hang the report: wait a little, then go on.
        let readUntil = Date().addingTimeInterval(timedOut ? 0.5 : 5)
        while !collected.isSet && Date() < readUntil { usleep(2_000) }
        return CommandRun(
            exitCode: timedOut ? -9 : process.terminationStatus, timedOut: timedOut,
            durationMs: Int64(Date().timeIntervalSince(started) * 1000), output: collected.text)
    }

    /// A shell command line (`sh -c`), as a task's checks are written.
    public static func sh(_ command: String, in directory: String, timeoutMs: Int64) -> CommandRun {
        run(["/bin/sh", "-c", command], in: directory, timeoutMs: timeoutMs)
    }
}

private final class OutputBuffer: @unchecked Sendable {
    // @unchecked Sendable: `data` is written once under `lock`.
    private let lock = NSLock()
    private var data: Data?

    func set(_ value: Data) {
        lock.lock()
        data = value
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return data != nil
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data ?? Data(), as: UTF8.self)
    }
}
