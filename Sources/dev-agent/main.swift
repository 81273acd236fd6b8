import AgentKit
import ArgumentParser

@main
struct DevAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-agent",
        abstract: "The Dev agent: one iteration of one task: asks the model for changes, applies and commits them.",
        discussion: "Attaches to the broker's workers endpoint (7/MDP) and serves jobs until SIGINT or SIGTERM.")

    @OptionGroup var options: AgentOptions

    func run() throws { try AgentMain.run(DevRole(), options: options) }
}
