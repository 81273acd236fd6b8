import BrokerClient
import BrokerProtocol
import BrokerServer
import Foundation
import ModelProviders
import Testing
import ZeroMQ

extension TestBroker {
    /// Adds messages through one DEALER, pipelined in windows, and returns how many were refused.
    func addMessages(_ sessionId: String, _ messages: [(role: String, content: String)]) throws -> Int {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        defer { dealer.close() }
        try dealer.connect(endpoints.api)
        try dealer.setReceiveTimeout(milliseconds: 10_000)
        var failures = 0
        var start = 0
        while start < messages.count {
            let window = messages[start..<min(start + 500, messages.count)]
            for (offset, message) in window.enumerated() {
                let request = RPCRequest(
                    id: .int(Int64(start + offset)), method: "session:addMessage",
                    params: [
                        "sessionId": .string(sessionId), "role": .string(message.role),
                        "content": .string(message.content),
                    ])
                try dealer.send([[], request.frame])
            }
            for _ in window {
                guard let frames = try dealer.receive() else { throw TestFailure("no reply to a pipelined add") }
                if try JSONParser.parse(frames.last ?? [])["error"] != nil { failures += 1 }
            }
            start += window.count
        }
        return failures
    }

    /// A subscriber to `compaction:` events, live before it is returned.
    func compactionEvents() throws -> EventSubscriber {
        let subscriber = try EventSubscriber(
            endpoint: endpoints.events, context: context, prefixes: ["compaction:", "session:created"])
        // PUB/SUB joins take a moment: create sessions until the subscription delivers.
        var joined = false
        for _ in 0..<50 where !joined {
            _ = try createSession(feature: "warm-up")
            joined = try subscriber.next(timeoutMs: 100) != nil
        }
        guard joined else { throw TestFailure("the event subscription never became live") }
        while try subscriber.next(timeoutMs: 50) != nil {}
        return subscriber
    }
}

extension EventSubscriber {
    /// The next event whose topic starts with `compaction:` (others are skipped), within `timeoutMs`.
    func nextCompaction(timeoutMs: Int = 10_000) throws -> ReceivedEvent? {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            if let event = try next(timeoutMs: 100), event.topic.hasPrefix("compaction:") { return event }
        }
        return nil
    }
}

/// A `command` summarizer: a shell script that gets the compaction prompt on stdin.
func commandSummarizer(_ script: String, timeoutSeconds: Double = 30) -> ModelProviderSettings {
    ModelProviderSettings(kind: .command, command: ["/bin/sh", "-c", script], timeoutSeconds: timeoutSeconds)
}
