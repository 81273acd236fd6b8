import ArgumentParser
import BrokerClient
import BrokerProtocol
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the broker answers.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let result = try global.call("broker:ping")
        global.output(result) {
            print(
                "broker \(Pretty.cell(result["version"])) at \(global.apiEndpoint), "
                    + "protocol \(Pretty.cell(result["protocolVersion"])), up \(Pretty.cell(result["uptimeMs"])) ms"
            )
        }
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Counts of sessions, messages, requests and errors.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let result = try global.call("broker:stats")
        global.output(result) {
            var flat = result.objectValue ?? JSONObject()
            if let errors = flat["errors"]?.objectValue {
                flat["errors"] = nil
                for (kind, count) in errors where count.intValue != 0 { flat["errors." + kind] = count }
            }
            print(Pretty.fields(flat))
        }
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print live events until interrupted.",
        discussion: "Events are printed one JSON object per line. PREFIX filters by topic, e.g. 'compaction:'.")
    @OptionGroup var global: GlobalOptions

    @Argument(help: "Topic prefixes to show (all when none).")
    var prefixes: [String] = []

    @Option(help: "First replay persisted events after this sequence number (events:since), then go live.")
    var since: Int64?

    @Option(help: "Exit after this many events.")
    var count: Int?

    @Flag(help: "With --since: print the persisted events and exit instead of going live.")
    var noFollow = false

    func run() throws {
        let context = try ZMQContext()
        let subscriber = try EventSubscriber(
            endpoint: global.eventsEndpoint, context: context, prefixes: prefixes, curve: try global.curveKeys())
        var printed = 0
        var lastSeq: Int64 = 0
        func show(_ body: JSON) -> Bool {
            if let seq = body["seq"]?.intValue {
                if seq <= lastSeq { return false }  // already shown by the replay
                lastSeq = seq
            }
            if global.json {
                print(body.serializedString)
            } else {
                print(
                    [
                        Pretty.cell(body["seq"]), Pretty.cell(body["at"]), Pretty.cell(body["topic"]),
                        body.serializedString,
                    ]
                    .joined(separator: "\t")
                )
            }
            flushOutput()
            printed += 1
            return count.map { printed >= $0 } ?? false
        }
        if let since {
            var after = since
            while true {
                var params = JSONObject([("seq", .int(after))])
                if prefixes.count == 1 { params["topic"] = .string(prefixes[0]) }
                let page = try global.call("events:since", params)
                for event in page["events"]?.arrayValue ?? [] {
                    let topic = event["topic"]?.stringValue ?? ""
                    guard prefixes.isEmpty || prefixes.contains(where: topic.hasPrefix) else { continue }
                    if show(event) { return }
                }
                after = page["nextSeq"]?.intValue ?? after
                if page["hasMore"]?.boolValue != true { break }
            }
            if noFollow { return }
        }
        while true {
            guard let event = try subscriber.next(timeoutMs: 1_000) else { continue }
            if show(event.body) { return }
        }
    }
}
