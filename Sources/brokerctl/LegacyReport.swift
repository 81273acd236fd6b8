import BrokerProtocol

/// What the import did with one file.
struct LegacyOutcome {
    enum Status: String, CaseIterable {
        /// Something was written: the session, messages, or its initial checkpoint.
        case migrated
        /// The broker already had all of it (a second run).
        case unchanged
        /// The file is corrupt or maps to a session another file of this run already feeds.
        case skipped
        /// The file could not be read or backed up, or the broker refused a write.
        case failed
        /// Dry run: a real run would write something.
        case wouldMigrate = "would-migrate"
    }

    let path: String
    var status = Status.failed
    var sessionId: String?
    var messages = 0
    /// Messages added (in a dry run: that would be added).
    var added = 0
    var skippedParts = 0
    var checkpointVersion: Int64?
    /// The backup's path relative to the import directory.
    var backup: String?
    var reason: String?

    init(path: String) { self.path = path }

    func failing(_ reason: String) -> LegacyOutcome {
        var copy = self
        copy.status = .failed
        copy.reason = reason
        return copy
    }

    /// `migrated chat.json -> legacy-f1-pm (12 messages, 12 new)` or `skipped x/session.json: why`.
    var line: String {
        let verb = status == .wouldMigrate ? "would migrate" : status.rawValue
        var text = "\(verb) \(path)"
        if let sessionId { text += " -> \(sessionId)" }
        if status == .skipped || status == .failed { return text + ": " + (reason ?? "unknown reason") }
        text += " (\(plural(messages, "message")), \(added) new"
        if skippedParts > 0 { text += ", \(plural(skippedParts, "non-text part")) left out" }
        return text + ")"
    }

    var json: JSON {
        var object: JSONObject = [
            "path": .string(path), "status": .string(status.rawValue), "sessionId": .optional(sessionId),
            "messages": .int(messages), "added": .int(added), "skippedParts": .int(skippedParts),
            "checkpointVersion": .optional(checkpointVersion), "backup": .optional(backup),
        ]
        object["reason"] = .optional(reason)
        return .object(object)
    }
}

/// The whole run: per-file outcomes and their totals.
struct LegacyReport {
    let directory: String
    let dryRun: Bool
    var outcomes: [LegacyOutcome] = []

    func count(_ status: LegacyOutcome.Status) -> Int { outcomes.filter { $0.status == status }.count }

    /// True when a file was skipped or failed: the run then exits 1.
    var hasProblems: Bool { count(.skipped) + count(.failed) > 0 }

    /// `3 files: 1 migrated, 1 unchanged, 1 skipped`; statuses with no file are left out.
    var totalLine: String {
        let parts = LegacyOutcome.Status.allCases.compactMap { status -> String? in
            let n = count(status)
            return n == 0 ? nil : "\(n) \(status == .wouldMigrate ? "would migrate" : status.rawValue)"
        }
        var text = plural(outcomes.count, "file")
        if !parts.isEmpty { text += ": " + parts.joined(separator: ", ") }
        if dryRun { text += " (dry run: nothing written)" }
        if outcomes.isEmpty { text += " (no chat.json or nodes/<task>/session.json under \(directory))" }
        return text
    }

    var json: JSON {
        var object: JSONObject = [
            "directory": .string(directory), "dryRun": .bool(dryRun), "files": .array(outcomes.map(\.json)),
        ]
        for status in LegacyOutcome.Status.allCases {
            object[status == .wouldMigrate ? "wouldMigrate" : status.rawValue] = .int(count(status))
        }
        if !dryRun { object["backupDirectory"] = .string(directory + "/" + LegacyScan.backupDirectoryName) }
        return .object(object)
    }
}

/// "1 message", "2 messages".
func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
