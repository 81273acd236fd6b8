import BrokerProtocol

/// Format versions of backups and session documents, and the steps that bring an older record up to date.
///
/// Steps run one version at a time on each record as it is read, so a file of any
/// size migrates in one streaming pass. Add a step for every change to a record's
/// shape and raise `PortableFormat.currentVersion`.
enum FormatMigrations {
    /// `steps[n]` upgrades a record from version n + 1 to n + 2.
    static let steps: [@Sendable (PortableSection, inout JSONObject) -> Void] = [
        upgradeFrom1
    ]

    /// Format 1 had no jobs, tasks or task iterations (those sections are simply absent), and a session's
    /// token limit was called `limit`.
    static func upgradeFrom1(_ section: PortableSection, _ record: inout JSONObject) {
        if section == .sessions, record["tokenLimit"] == nil, let limit = record["limit"] {
            record["tokenLimit"] = limit
            record["limit"] = nil
        }
    }

    /// The version a file's header declares: a file with none is a legacy file of version 1.
    static func version(declared value: JSON?, member: String) throws -> Int64? {
        guard let value else { return nil }
        guard let version = value.intValue, version >= 1 else {
            throw ImportProblem(
                "\"\(member)\" must be an integer of at least 1, not \(value.serializedString)", path: member)
        }
        return version
    }

    /// Refuses a version this build cannot read: newer files need a newer broker.
    static func check(_ version: Int64, supported: Int64, what: String, member: String) throws {
        guard version <= supported else {
            throw ImportProblem(
                "\(what) version \(version) is newer than this broker reads (\(supported)); "
                    + "upgrade AgentBroker to import it", path: member)
        }
    }

    /// `record` as the current version writes it.
    static func upgrade(_ record: JSONObject, _ section: PortableSection, from version: Int64) -> JSONObject {
        guard version < PortableFormat.currentVersion else { return record }
        var record = record
        for step in Int(version - 1)..<Int(PortableFormat.currentVersion - 1) { steps[step](section, &record) }
        return record
    }
}
