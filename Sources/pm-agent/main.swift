import AgentKit
import ArgumentParser

@main
struct PMAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pm-agent",
        abstract: "The PM agent: turns a feature description into a task plan and creates the tasks.",
        discussion: "Attaches to the broker's workers endpoint (7/MDP) and serves jobs until SIGINT or SIGTERM.")

    @OptionGroup var options: AgentOptions

    func run() throws { try AgentMain.run(PMRole(), options: options) }
}
