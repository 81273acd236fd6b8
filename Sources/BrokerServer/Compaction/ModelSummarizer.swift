import ModelProviders
import SessionCore

/// A summarizer that asks a model (`CompactionPrompt`) through any `ModelProvider`.
struct ModelSummarizer: Summarizer {
    let provider: any ModelProvider
    /// Finds the items by rules first, so the model is told what to keep and where to look.
    var hints = EmbeddedSummarizer()
    /// The most the answer may take.
    var maxAnswerTokens = 4_096

    var label: String { provider.label }

    func summarize(_ input: SummaryInput) throws(SummaryError) -> Checkpoint {
        let request = ModelRequest(
            system: CompactionPrompt.system,
            messages: [ModelMessage(role: "user", content: CompactionPrompt.user(input, hints: hints.items(input)))],
            maxTokens: maxAnswerTokens, temperature: 0)
        let response: ModelResponse
        do { response = try provider.complete(request) } catch { throw SummaryError("\(error)") }
        return try CompactionPrompt.parse(response.text)
    }
}
