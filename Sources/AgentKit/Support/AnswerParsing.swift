import BrokerProtocol

/// Reading structured parts out of a model's free-text answer.
public enum AnswerParsing {
    /// The first JSON object in `text`: a fenced ```json block, any fenced block that parses, or the text
    /// from its first `{` to its last `}`.
    public static func jsonObject(in text: String) -> JSONObject? {
        for block in fencedBlocks(in: text) {
            if let object = (try? JSONParser.parse(block.body))?.objectValue { return object }
        }
        guard let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"), start < end else { return nil }
        return (try? JSONParser.parse(String(text[start...end])))?.objectValue
    }

    /// A fenced block: its info string (`json`, `diff`, `sh`) and its inner text.
    public struct Block: Sendable, Equatable {
        public var info: String
        public var body: String
        /// The line just before the opening fence.
        public var precedingLine: String
    }

    /// Every ``` fenced block, in order. An unclosed block runs to the end of the text.
    public static func fencedBlocks(in text: String) -> [Block] {
        var blocks: [Block] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingLeadingSpaces
            guard trimmed.hasPrefix("```") else {
                index += 1
                continue
            }
            let fence = String(trimmed.prefix { $0 == "`" })
            let info = String(trimmed.dropFirst(fence.count)).trimmingSpaces
            let preceding = index > 0 ? lines[index - 1] : ""
            var body: [String] = []
            index += 1
            while index < lines.count, lines[index].trimmingSpaces != fence {
                body.append(lines[index])
                index += 1
            }
            index += 1
            blocks.append(
                Block(
                    info: info, body: body.joined(separator: "\n") + (body.isEmpty ? "" : "\n"),
                    precedingLine: preceding))
        }
        return blocks
    }
}

/// One change to a worktree that a model asked for.
public enum FileEdit: Sendable, Equatable {
    /// The whole new content of a file.
    case write(path: String, content: String)
    /// A unified diff for `git apply`.
    case patch(String)
    case delete(path: String)

    /// The edits in a Dev or Merge answer: `FILE: path` + fenced block, ```diff blocks, `DELETE: path` lines.
    public static func parse(_ answer: String) -> [FileEdit] {
        var edits: [FileEdit] = []
        for block in AnswerParsing.fencedBlocks(in: answer) {
            let label = block.precedingLine.trimmingSpaces
            if label.hasPrefix("FILE:") {
                let path = String(label.dropFirst(5)).trimmingSpaces
                if !path.isEmpty { edits.append(.write(path: path, content: block.body)) }
            } else if block.info == "diff" || block.info == "patch" {
                edits.append(.patch(block.body))
            }
        }
        for line in answer.split(separator: "\n") where line.hasPrefix("DELETE:") {
            let path = String(line.dropFirst(7)).trimmingSpaces
            if !path.isEmpty { edits.append(.delete(path: path)) }
        }
        return edits
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return String(text)
    }

    var trimmingLeadingSpaces: String { String(drop { $0 == " " || $0 == "\t" }) }
}
