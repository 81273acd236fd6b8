import ArgumentParser
import BrokerProtocol
import Gzip
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

struct TracesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traces",
        abstract: "Trace bundles: every message, event, compaction, job and iteration as gzipped JSONL.",
        subcommands: [TracesExport.self, TracesImport.self])
}

struct TracesExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write a trace bundle: line 1 a manifest, then one {source, entry} line per row; `gunzip -c FILE | jq`.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The bundle to write (mode 0600), or - for standard output (default traces-<time>.jsonl.gz).")
    var out: String?
    @Option(help: "Only rows from this time on (ISO 8601, e.g. 2026-11-23 or 2026-11-23T15:00:00Z).") var since: String?
    @Option(name: .customLong("session"), help: "Only this session's rows and events.") var sessionId: String?
    @Flag(help: "Print only the file's path.") var quiet = false

    func run() throws {
        let started = Timestamp.monotonicMillis()
        let path = out ?? "traces-\(Timestamp.iso8601(Timestamp.now()).replacing(":", with: "-")).jsonl.gz"
        var params = JSONObject([("kind", "traces")])
        if let since {
            guard Timestamp.parseISO8601(since) != nil else {
                throw UsageError("--since must be an ISO 8601 time such as 2026-11-23T15:00:00Z")
            }
            params["since"] = .string(since)
        }
        if let sessionId { params["sessionId"] = .string(sessionId) }
        let output = try OutputFile(path)
        let gzip = try GzipCompressor(level: 1)
        var compressed: Int64 = 0
        let transfer = try Transfer(global, quiet: quiet || path == "-")
        let (opened, last) = try transfer.download(params, unit: "rows") { piece in
            try piece.withUnsafeBytes { bytes in
                try gzip.compress(bytes) { out in
                    compressed += Int64(out.count)
                    try output.write(out)
                }
            }
        }
        try gzip.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { out in
            compressed += Int64(out.count)
            try output.write(out)
        }
        try output.commit()
        guard path != "-" else { return reportUnrepresentable(last) }
        if quiet { return print(path) }
        let millis = Timestamp.monotonicMillis() - started
        if global.json {
            var stats = opened["stats"]?.objectValue ?? JSONObject()
            stats["bytes"] = last["bytes"] ?? 0
            stats["compressedBytes"] = .int(compressed)
            stats["unrepresentable"] = last["unrepresentable"] ?? 0
            stats["durationMs"] = .int(millis)
            return print(Pretty.json(.object(JSONObject([("path", .string(path)), ("stats", .object(stats))]))))
        }
        print(
            "Wrote \(Transfer.describe(opened["stats"])) to \(path) "
                + "(\(Format.bytes(last["bytes"]?.intValue ?? 0)) of JSONL, \(Format.bytes(compressed)) gzipped, "
                + "\(Format.seconds(millis))).")
        reportUnrepresentable(last)
    }
}

struct TracesImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Merge a trace bundle into the broker: rows it already has are skipped and counted.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A bundle made by `traces export` (.jsonl.gz, or plain .jsonl).") var file: String
    @Flag(help: "Print nothing but errors.") var quiet = false

    func run() throws {
        let input = try InputFile(file)
        let head = try input.read(2)
        let gzipped = head == [0x1F, 0x8B]
        let gunzip = try GzipDecompressor()
        var pending = head
        var finished = false
        let transfer = try Transfer(global, quiet: quiet)
        let result = try transfer.upload(kind: "traces", clear: false, input: input) {
            // Plain text goes up as it is; a gzip file is decompressed a block at a time.
            while !finished {
                // A gzip block is read small (64 KiB inflate to about 1 MiB of JSONL), so memory stays flat.
                let raw = pending + (try input.read(gzipped ? 64 << 10 : Transfer.pieceBytes))
                pending = []
                if raw.isEmpty {
                    finished = true
                    if gzipped && !gunzip.atMemberEnd {
                        throw UsageError("\(file) ends in the middle of its gzip stream (truncated?)")
                    }
                    break
                }
                guard gzipped else { return raw }
                var text: [UInt8] = []
                try raw.withUnsafeBytes { bytes in
                    try gunzip.decompress(bytes) { text.append(contentsOf: $0) }
                }
                if !text.isEmpty { return text }
            }
            return []
        }
        if quiet { return }
        if global.json { return print(Pretty.json(.object(result))) }
        print(
            "Imported \(Transfer.describe(result["stats"])) from \(file); "
                + "already present and skipped: \(Transfer.describe(result["skipped"])).")
        reportUnrepresentable(result)
    }
}
