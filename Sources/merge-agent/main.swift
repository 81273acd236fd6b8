import AgentKit
import ArgumentParser

@main
struct MergeAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-agent",
        abstract: "The Merge agent: merges a task's branch into its feature branch.",
        discussion: "Attaches to the broker's workers endpoint (7/MDP) and serves jobs until SIGINT or SIGTERM.")

    @OptionGroup var options: AgentOptions

    func run() throws { try AgentMain.run(MergeRole(), options: options) }
}
