import ArgumentParser
import BrokerProtocol
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up the whole database to one versioned JSON file (a consistent snapshot, taken live).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to write (mode 0600).") var file: String
    @Flag(help: "Print only the file's path.") var quiet = false

    func run() throws {
        let started = Timestamp.monotonicMillis()
        let output = try OutputFile(file)
        let transfer = try Transfer(global, quiet: quiet)
        let (opened, last) = try transfer.download(JSONObject([("kind", "backup")]), unit: "rows") {
            try output.write($0)
        }
        try output.commit()
        var stats = opened["stats"]?.objectValue ?? JSONObject()
        let millis = Timestamp.monotonicMillis() - started
        let bytes = last["bytes"]?.intValue ?? 0
        stats["bytes"] = .int(bytes)
        stats["unrepresentable"] = last["unrepresentable"] ?? 0
        stats["durationMs"] = .int(millis)
        if quiet { return print(file) }
        if global.json {
            return print(Pretty.json(.object(JSONObject([("path", .string(file)), ("stats", .object(stats))]))))
        }
        print(
            "Exported \(Transfer.describe(opened["stats"])) to \(file) (\(Format.bytes(bytes)), \(Format.seconds(millis)))."
        )
        reportUnrepresentable(last)
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup made by `brokerctl export`.",
        discussion: """
            The broker checks the whole file before it writes anything, then writes it in one transaction. \
            Ids already in the broker are refused unless --clear replaces every session, job, task and event.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The backup file.") var file: String
    @Flag(help: "Replace everything in the broker with the file's contents.") var clear = false
    @Flag(help: "Do not ask before --clear replaces the data (for scripts).") var yes = false
    @Flag(help: "Print nothing but errors.") var quiet = false

    func run() throws {
        if clear && !yes { try confirmClear() }
        let input = try InputFile(file)
        let transfer = try Transfer(global, quiet: quiet)
        let result = try transfer.upload(kind: "backup", clear: clear, input: input) {
            try input.read(Transfer.pieceBytes)
        }
        if quiet { return }
        if global.json { return print(Pretty.json(.object(result))) }
        var line = "Imported \(Transfer.describe(result["stats"])) from \(file)"
        if result["migrated"]?.boolValue == true {
            line += " (format version \(result["formatVersion"]?.intValue ?? 0), migrated)"
        }
        print(line + ".")
        reportUnrepresentable(result)
    }

    /// Asks on the terminal; without one, refuses (a script must say --yes).
    private func confirmClear() throws {
        guard isatty(STDIN_FILENO) == 1 else {
            throw UsageError("--clear replaces all data in the broker; pass --yes to confirm when not on a terminal")
        }
        writeError(
            "This replaces ALL sessions, messages, jobs, tasks and events in the broker at \(global.apiEndpoint) "
                + "with the contents of \(file). Continue? [y/N] ")
        let answer = readLine()?.lowercased() ?? ""
        guard answer == "y" || answer == "yes" else { throw UsageError("not confirmed; nothing was changed") }
    }
}

/// Reports rows an export or import had to flag (see Protocols/AGENTBROKER-PORTABILITY.md).
func reportUnrepresentable(_ result: JSONObject) {
    guard let count = result["unrepresentable"]?.intValue, count > 0 else { return }
    printError(
        "brokerctl: \(count) rows hold text JSON cannot carry faithfully; they were kept, repaired, "
            + "and marked \"unrepresentable\" with the reason")
}

struct SessionExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export one session as Markdown, JSON or a portable packet.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The session id.") var sessionId: String
    @Option(help: "markdown, json or packet.") var format: String = "markdown"
    @Option(help: "The file to write (default: standard output).") var out: String = "-"

    func run() throws {
        guard ["markdown", "json", "packet"].contains(format) else {
            throw UsageError("--format must be markdown, json or packet")
        }
        let output = try OutputFile(out)
        let transfer = try Transfer(global, quiet: out == "-")
        _ = try transfer.download(
            JSONObject([("kind", "session"), ("sessionId", .string(sessionId)), ("format", .string(format))]),
            unit: "rows"
        ) { try output.write($0) }
        try output.commit()
        if out != "-" && !global.json { print("Wrote session \(sessionId) as \(format) to \(out).") }
    }
}

struct SessionImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a session JSON document or packet as a new session.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file made by `session export --format json|packet`.") var file: String

    func run() throws {
        let input = try InputFile(file)
        let transfer = try Transfer(global, quiet: true)
        let result = try transfer.upload(kind: "session", clear: false, input: input) {
            try input.read(Transfer.pieceBytes)
        }
        if global.json { return print(Pretty.json(.object(result))) }
        let id = result["sessionId"]?.stringValue ?? "?"
        let source = result["source"]?.stringValue == "packet" ? "packet" : "session document"
        print("Imported \(file) (\(source)) as session \(id): \(Transfer.describe(result["stats"])).")
    }
}
