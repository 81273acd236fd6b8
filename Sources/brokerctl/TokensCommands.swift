import ArgumentParser
import BrokerProtocol
import SessionCore

#if canImport(Glibc)
    import Glibc
#endif

struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Count tokens locally, exactly as the broker does (cl100k_base).",
        subcommands: [TokensCount.self])
}

struct TokensCount: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count", abstract: "Print the token count of a file or of standard input.")
    @Argument(help: "A file, or '-' (the default) for standard input.") var file: String = "-"
    @Flag(help: "Print JSON: {tokens, bytes, exact}.") var json = false
    @Flag(help: "Print the token ids too.") var ids = false

    func run() throws {
        let text: String
        if file == "-" {
            text = readStandardInput()
        } else {
            guard let contents = ProcessIO.readFile(file) else {
                throw UsageError("cannot read \(file): \(ProcessIO.lastErrorMessage)")
            }
            // Invalid UTF-8 becomes U+FFFD, as the broker never receives it.
            text = String(decoding: contents, as: UTF8.self)
        }
        let loaded = TokenCounterLoader.loadDefault()
        if let failure = loaded.failure { printError("brokerctl: warning: approximate count (\(failure))") }
        let tokenIds: [Int]? = ids ? (loaded.counter as? TokenEncoding)?.encode(text) : nil
        if ids && tokenIds == nil { throw UsageError("--ids needs the exact tokenizer, which did not load") }
        let count = tokenIds?.count ?? loaded.counter.count(text)
        if json {
            var object = JSONObject([
                ("tokens", .int(count)), ("bytes", .int(text.utf8.count)), ("exact", .bool(loaded.isExact)),
            ])
            if let tokenIds { object["ids"] = .array(tokenIds.map { .int($0) }) }
            print(JSON.object(object).serializedString)
        } else {
            print(count)
            if let tokenIds { print(tokenIds.map(String.init).joined(separator: " ")) }
        }
    }
}
