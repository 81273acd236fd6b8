@_exported import Tokenizer

/// The documented per-message framing used everywhere a message is counted.
///
/// A chat message costs its content plus `framing` tokens for the role marker
/// and separators (`<|im_start|>role\n … <|im_end|>\n` in the chat format: the
/// start marker, the role, the newline and the end marker). A `name` adds its own
/// tokens plus one separator. `TokenEstimator.estimateMessages` and the stored
/// per-message counts both use this formula.
public enum MessageTokens {
    public static let framing = 4

    public static func count(content: String, name: String?, counter: any TokenCounter) -> Int {
        var total = framing + counter.count(content)
        if let name { total += counter.count(name) + 1 }
        return total
    }
}
