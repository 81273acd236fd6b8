import ArgumentParser
import BrokerProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// `brokerctl migrate`: bringing data from older formats into the broker.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Import data kept in older formats.", subcommands: [MigrateLegacy.self])
}

/// `brokerctl migrate legacy DIR [--dry-run]`: imports `chat.json` and `nodes/<task>/session.json` files
/// (Protocols/AGENTBROKER-LEGACY.md).
struct MigrateLegacy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "legacy",
        abstract: "Import the chat.json and nodes/<task>/session.json files of the older tools as sessions.",
        discussion: """
            Each file becomes one session with its messages and an initial checkpoint. Every file read is \
            first copied to DIR/.agentbroker-legacy-backup/; originals are never changed. Running it again \
            adds nothing. Exit codes: 0 every file migrated or unchanged, 1 a file was skipped (corrupt) or \
            failed, 2 usage error (DIR missing), 3 broker unreachable.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The directory to search (recursively).") var directory: String
    @Flag(help: "Only report what would be done: nothing is written, to the broker or to disk.") var dryRun = false

    func run() throws {
        // realpath resolves a symbolic link given as DIR (only links below it are not followed).
        guard let root = LegacyFiles.realPath(directory) else {
            throw UsageError("cannot open \(directory): \(ProcessIO.lastErrorMessage)")
        }
        guard LegacyFiles.kind(root) == .directory else { throw UsageError("\(directory) is not a directory") }
        let sources = LegacyScan.sources(root: root, rootName: LegacyFiles.baseName(root))
        var importer = LegacyImporter(root: root, dryRun: dryRun, broker: try LegacyBroker(global))
        var report = LegacyReport(directory: root, dryRun: dryRun)
        for source in sources {
            let outcome = try importer.run(source)
            report.outcomes.append(outcome)
            if !global.json {
                // One line as each file is done: a long import shows its progress, and a broker lost halfway
                // leaves the list of what was already imported.
                print(outcome.line)
                flushOutput()
            }
        }
        if global.json {
            print(Pretty.json(report.json))
        } else {
            print(report.totalLine)
        }
        if report.hasProblems {
            flushOutput()
            printError("brokerctl: some files were not imported; see the report")
            Glibc.exit(Exit.brokerError)  // documented: 1 when a file was skipped or failed
        }
    }
}
