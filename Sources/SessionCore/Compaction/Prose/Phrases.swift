/// Cue phrases over a sentence's words: each slot lists its alternatives (`we|i`), `*` is any one word, and
/// `_` joins the words of a longer alternative (`we're|we_are keeping` is "we're keeping" or "we are keeping").
///
/// Phrases are indexed by the alternatives of their first slot, so a sentence
/// is checked in one pass over its words whatever the number of phrases.
struct PhraseSet: Sendable {
    private struct Phrase: Sendable {
        let slots: [Set<String>?]  // nil: any word
    }

    private var byFirstWord: [String: [Phrase]] = [:]
    private var anyFirst: [Phrase] = []

    /// `patterns` such as `"we|i decided to|on|against"` or `"let's go with"`.
    init(_ patterns: [String]) {
        for pattern in patterns.flatMap(Self.expanded) {
            let slots: [Set<String>?] = pattern.split(separator: " ").map { slot in
                slot == "*" ? nil : Set(slot.split(separator: "|").map(String.init))
            }
            let phrase = Phrase(slots: slots)
            if let first = slots.first, let words = first {
                for word in words { byFirstWord[word, default: []].append(phrase) }
            } else {
                anyFirst.append(phrase)
            }
        }
    }

    /// A pattern whose alternatives join words with `_`, as plain patterns: "we're|we_are keeping" gives
    /// "we're keeping" and "we are keeping".
    static func expanded(_ pattern: String) -> [String] {
        var results = [""]
        for slot in pattern.split(separator: " ") {
            let alternatives = slot.split(separator: "|").map(String.init)
            let single = alternatives.filter { !$0.contains("_") }
            let multi = alternatives.filter { $0.contains("_") }.map { $0.replacingUnderscores() }
            var options: [String] = []
            if !single.isEmpty { options.append(single.joined(separator: "|")) }
            options += multi
            results = results.flatMap { prefix in options.map { prefix.isEmpty ? $0 : prefix + " " + $0 } }
        }
        return results
    }

    /// The index just past the first match at or after `from`, or nil.
    func firstMatch(in words: [String], from: Int = 0) -> (start: Int, end: Int)? {
        var index = from
        while index < words.count {
            for phrase in (byFirstWord[words[index]] ?? []) + anyFirst where Self.matches(phrase, words, at: index) {
                return (index, index + phrase.slots.count)
            }
            index += 1
        }
        return nil
    }

    func contains(_ words: [String]) -> Bool { firstMatch(in: words) != nil }

    private static func matches(_ phrase: Phrase, _ words: [String], at start: Int) -> Bool {
        guard start + phrase.slots.count <= words.count else { return false }
        for (offset, slot) in phrase.slots.enumerated() {
            if let slot, !slot.contains(words[start + offset]) { return false }
        }
        return true
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}
