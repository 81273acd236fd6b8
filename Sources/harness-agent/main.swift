import AgentKit
import ArgumentParser

@main
struct HarnessAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harness-agent",
        abstract: "The Harness agent: reviews a task's diff and QA report; approves or rejects with reasons.",
        discussion: "Attaches to the broker's workers endpoint (7/MDP) and serves jobs until SIGINT or SIGTERM.")

    @OptionGroup var options: AgentOptions

    func run() throws { try AgentMain.run(HarnessRole(), options: options) }
}
