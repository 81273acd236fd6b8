import Foundation

/// A local program as a model: it gets the prompt on standard input and answers on standard output.
///
/// For a local CLI model or a script. The program runs in `workingDirectory`
/// (so a coding CLI may also edit files there); a non-zero exit, or no exit
/// within the time-out (the program is then killed), is an error.
public struct CommandProvider: ModelProvider {
    public let executable: String
    public let arguments: [String]
    public let workingDirectory: String?
    public let timeoutSeconds: Double

    public init(
        executable: String, arguments: [String] = [], workingDirectory: String? = nil, timeoutSeconds: Double = 600
    ) {
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.timeoutSeconds = timeoutSeconds
    }

    public var label: String { "command:\((executable as NSString).lastPathComponent)" }

    /// Ignores SIGPIPE for the whole process, once: writing to a program that has exited must fail, not kill us.
    private static let sigpipeIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    public func complete(_ request: ModelRequest) throws(ModelError) -> ModelResponse {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            throw .configuration("cannot run \(executable): \(error.localizedDescription)")
        }
        let collected = CollectedOutput()
        let readers = DispatchGroup()
        for (pipe, isOutput) in [(output, true), (errors, false)] {
            readers.enter()
            DispatchQueue.global().async {
                collected.append(pipe.fileHandleForReading.readDataToEndOfFile(), isOutput: isOutput)
                readers.leave()
            }
        }
        // A program may exit without reading its input: the write then fails with EPIPE, which must
        // not kill this process with SIGPIPE (ignored once, process-wide) and is not an error by itself.
        _ = Self.sigpipeIgnored
        try? input.fileHandleForWriting.write(contentsOf: Data(request.plainPrompt.utf8))
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            // Not waiting for the output readers: a child the program started may still hold the
            // pipes open; they finish on their own when it exits.
            process.terminate()
            let grace = Date().addingTimeInterval(1)
            while process.isRunning && Date() < grace { usleep(5_000) }
            // SIGTERM may be blocked (a mask inherited from the thread that spawned it): then SIGKILL.
            // Its whole process group: Foundation sees the exit only once every descendant let go of the pipes.
            if process.isRunning { kill(-process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw .timeout(seconds: timeoutSeconds)
        }
        process.waitUntilExit()
        readers.wait()
        let (stdout, stderr) = collected.texts()
        guard process.terminationStatus == 0 else {
            throw .command(exitCode: process.terminationStatus, stderr: String(stderr.suffix(500)))
        }
        return ModelResponse(text: stdout, model: label)
    }
}

private final class CollectedOutput: @unchecked Sendable {
    // @unchecked Sendable: both buffers are guarded by `lock`.
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()

    func append(_ data: Data, isOutput: Bool) {
        lock.lock()
        if isOutput { output.append(data) } else { errors.append(data) }
        lock.unlock()
    }

    func texts() -> (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }
}
