import AgentKit
import ArgumentParser
import BrokerProtocol
import Foundation
import ZeroMQ

/// Exit codes: 0 every task done, 1 a task failed, 2 a usage or broker error, 3 the broker did not answer.
@main
enum RalphMain {
    static func main() {
        let command: any ParsableCommand
        do {
            command = try Ralph.parseAsRoot()
        } catch {
            if Ralph.exitCode(for: error) == .success { Ralph.exit(withError: error) }  // --help
            FileHandle.standardError.write(Data((Ralph.fullMessage(for: error) + "\n").utf8))
            exit(2)
        }
        do {
            var command = command
            try command.run()
            exit(0)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch let error as AgentError where error.unreachable {
            FileHandle.standardError.write(Data("ralph: \(error)\n".utf8))
            exit(3)
        } catch {
            if Ralph.exitCode(for: error) == .success { Ralph.exit(withError: error) }
            FileHandle.standardError.write(Data("ralph: \(error)\n".utf8))
            exit(2)
        }
    }
}

struct Ralph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ralph",
        abstract: "The Ralph Loop task controller: plans a feature and drives its tasks to merged.",
        discussion: """
            Every step is a job for an agent (pm, dev, qa, harness, merge) through the broker; task state lives \
            in the broker, so a restarted ralph resumes where the last one stopped.
            """,
        subcommands: [Plan.self, Run.self, Status.self])
}

/// Options shared by the subcommands.
struct RalphOptions: ParsableArguments {
    @OptionGroup var broker: BrokerEndpointOptions
    @Option(help: "Seconds one agent job may take before it fails.")
    var jobTimeout: Int64 = 1_800

    func link(_ context: ZMQContext) throws -> BrokerLink {
        let curve = try broker.curveKeys { say("ralph: warning: \($0)") }
        return BrokerLink(endpoint: broker.apiEndpoint, context: context, curve: curve)
    }
}

/// Progress goes to standard output as it happens (unbuffered, so a pipe shows it live).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension Ralph {
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Asks the PM agent for a feature's task plan.")
        @OptionGroup var options: RalphOptions
        @Option(help: "The feature's id (tasks become <feature>-<key>).") var feature: String
        @Option(help: "The git repository the tasks work in.") var repo: String
        @Option(help: "The feature description.") var description: String?
        @Option(help: "A file holding the feature description.") var descriptionFile: String?
        @Option(help: "The branch tasks merge into (default feature/<feature>).") var featureBranch: String?

        func run() throws {
            let text: String
            if let description {
                text = description
            } else if let descriptionFile {
                guard let bytes = ProcessIO.readFile(descriptionFile) else {
                    throw ValidationError("cannot read \(descriptionFile): \(ProcessIO.lastErrorMessage)")
                }
                text = String(decoding: bytes, as: UTF8.self)
            } else {
                throw ValidationError("give --description or --description-file")
            }
            let repoPath = URL(fileURLWithPath: repo).standardizedFileURL.path
            let context = try ZMQContext(ioThreads: 1)
            let link = try options.link(context)
            let jobs = JobRunner(link: link, jobTimeoutMs: options.jobTimeout * 1000, print: say)
            say("[\(feature)] planning with the PM agent")
            let result = try jobs.run(
                jobId: "\(feature):pm", service: "pm",
                payload: JSONObject([
                    ("featureId", .string(feature)), ("description", .string(text)), ("repo", .string(repoPath)),
                    ("featureBranch", .string(featureBranch ?? "feature/\(feature)")),
                    ("sessionId", .string("\(feature)-pm")),
                ]))
            for taskId in result.strings("taskIds") {
                let task = try link.task(taskId)
                let after = task.strings("dependsOn")
                say(
                    "[\(feature)] task \(taskId): \(task.text("title"))"
                        + (after.isEmpty ? "" : " (after \(after.joined(separator: ", ")))"))
            }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drives a feature's tasks (or one task) to done; exits 1 when a task fails.")
        @OptionGroup var options: RalphOptions
        @Option(help: "Run every task of this feature.") var feature: String?
        @Option(help: "Run this one task.") var task: String?
        @Option(help: "Dev iterations a task may take before it fails.") var maxIterations: Int64 = 10

        func validate() throws {
            guard (feature == nil) != (task == nil) else {
                throw ValidationError("give exactly one of --feature or --task")
            }
            guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1") }
        }

        func run() throws {
            let context = try ZMQContext(ioThreads: 1)
            let link = try options.link(context)
            let tasks: [JSONObject]
            if let feature {
                tasks =
                    (try link.call("task:list", JSONObject([("featureId", .string(feature))]))["tasks"]?.arrayValue
                    ?? [])
                    .compactMap(\.objectValue)
                guard !tasks.isEmpty else {
                    throw AgentError("feature \(feature) has no tasks (run `ralph plan` first)")
                }
            } else {
                tasks = [try link.task(task!)]
            }
            let loop = RalphLoop(
                link: link, jobs: JobRunner(link: link, jobTimeoutMs: options.jobTimeout * 1000, print: say),
                maxIterations: maxIterations, print: say)
            let allDone = try loop.run(tasks: tasks)
            say(allDone ? "all \(tasks.count) tasks done" : "a task failed")
            if !allDone { throw ExitCode(1) }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows a feature's tasks, states and iterations.")
        @OptionGroup var options: RalphOptions
        @Option(help: "The feature's id.") var feature: String

        func run() throws {
            let context = try ZMQContext(ioThreads: 1)
            let link = try options.link(context)
            let tasks =
                (try link.call("task:list", JSONObject([("featureId", .string(feature))]))["tasks"]?.arrayValue ?? [])
                .compactMap(\.objectValue)
            for task in tasks {
                let reason = task.text("failureReason")
                say(
                    "\(task.text("taskId"))  \(task.text("state"))  iteration \(task["iteration"]?.intValue ?? 0)  "
                        + task.text("title") + (reason.isEmpty ? "" : "  (\(reason))"))
            }
        }
    }
}
