import ArgumentParser
import BrokerClient
import BrokerProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Exit codes, as documented in the README.
enum Exit {
    static let done: Int32 = 0
    static let brokerError: Int32 = 1
    static let usage: Int32 = 2
    static let unreachable: Int32 = 3
}

@main
enum BrokerctlMain {
    static func main() {
        let command: any ParsableCommand
        do {
            let arguments = ConnectionArguments.reorder(Array(CommandLine.arguments.dropFirst()), root: Brokerctl.self)
            command = try Brokerctl.parseAsRoot(arguments)
        } catch {
            let code = Brokerctl.exitCode(for: error)
            if code == .success { Brokerctl.exit(withError: error) }  // --help, --version: printed, exit 0
            printError(Brokerctl.fullMessage(for: error))
            exit(Exit.usage)
        }
        do {
            var command = command
            try command.run()
            exit(Exit.done)
        } catch let error as ClientError {
            printError("brokerctl: \(error)")
            switch error {
            case .rpc: exit(Exit.brokerError)
            case .unreachable, .transport: exit(Exit.unreachable)
            }
        } catch let error as UsageError {
            printError("brokerctl: \(error.message)")
            exit(Exit.usage)
        } catch {
            let code = Brokerctl.exitCode(for: error)
            if code == .success { Brokerctl.exit(withError: error) }  // `help SUBCOMMAND` lands here
            printError(Brokerctl.fullMessage(for: error))
            exit(code == .validationFailure ? Exit.usage : Exit.brokerError)
        }
    }
}

/// A mistake in how brokerctl was called, found after parsing (exit code 2).
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

struct Brokerctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brokerctl",
        abstract: "Inspect and drive an AgentBroker.",
        discussion: "Exit codes: 0 done, 1 the broker answered an error, 2 usage error, 3 broker unreachable.",
        subcommands: [
            Ping.self, Stats.self, SessionCommand.self, CheckpointCommand.self, Events.self, TokensCommand.self,
            TaskCommand.self, JobCommand.self, WorkerCommand.self, Export.self, Import.self, TracesCommand.self,
            MigrateCommand.self, KeysCommand.self,
        ])
}
