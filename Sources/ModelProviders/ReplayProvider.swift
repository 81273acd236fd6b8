import BrokerProtocol
import Foundation

/// Plays recorded answers in order, for demos and deterministic tests.
///
/// The file is a JSON array; each item is an answer string, or an object
/// `{"text": …, "inputTokens"?: n, "outputTokens"?: n}`. The position is
/// shared by every caller of this provider value.
public final class ReplayProvider: ModelProvider, @unchecked Sendable {
    // @unchecked Sendable: `answers` is immutable after init and `next` is guarded by `lock`.
    public let path: String
    private let answers: [ModelResponse]
    private let lock = NSLock()
    private var next = 0

    public init(path: String) throws(ModelError) {
        self.path = path
        guard let bytes = ProcessIO.readFile(path) else {
            throw .configuration("cannot read the replay file \(path): \(ProcessIO.lastErrorMessage)")
        }
        guard let items = (try? JSONParser.parse(bytes))?.arrayValue else {
            throw .configuration("the replay file \(path) must hold a JSON array of answers")
        }
        var answers: [ModelResponse] = []
        for (index, item) in items.enumerated() {
            if let text = item.stringValue {
                answers.append(ModelResponse(text: text, model: "replay"))
            } else if let text = item["text"]?.stringValue {
                answers.append(
                    ModelResponse(
                        text: text, model: "replay", inputTokens: item["inputTokens"]?.intValue.map(Int.init),
                        outputTokens: item["outputTokens"]?.intValue.map(Int.init)))
            } else {
                throw .configuration("answer \(index) in \(path) is neither a string nor {\"text\": …}")
            }
        }
        self.answers = answers
    }

    public var label: String { "replay:\((path as NSString).lastPathComponent)" }

    /// Answers not played yet.
    public var remaining: Int {
        lock.lock()
        defer { lock.unlock() }
        return answers.count - next
    }

    public func complete(_ request: ModelRequest) throws(ModelError) -> ModelResponse {
        lock.lock()
        defer { lock.unlock() }
        guard next < answers.count else { throw .exhausted(path) }
        next += 1
        return answers[next - 1]
    }
}
