import AgentKit
import ArgumentParser

@main
struct QAAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa-agent",
        abstract: "The QA agent: runs a task's checks in its worktree and reports each pass or fail.",
        discussion: "Attaches to the broker's workers endpoint (7/MDP) and serves jobs until SIGINT or SIGTERM.")

    @OptionGroup var options: AgentOptions
    @Flag(help: "Also ask the model to review the task's diff (needs a provider).")
    var review = false

    func run() throws { try AgentMain.run(QARole(review: review), options: options) }
}
