/// Words that carry no topic: what is left after removing them is what two items are compared on.
enum ItemText {
    static let stopwords: Set<String> = [
        "a", "an", "the", "and", "or", "but", "if", "then", "so", "to", "of", "in", "on", "at", "for", "with", "by",
        "from", "up", "out", "as", "is", "are", "was", "were", "be", "been", "being", "am", "it", "its", "it's", "this",
        "that", "these", "those", "there", "here", "i", "we", "you", "they", "he", "she", "me", "us", "them", "my", "our",
        "your", "their", "his", "her", "i'll", "we'll", "you'll", "they'll", "i'm", "we're", "you're", "they're", "i've",
        "we've", "i'd", "we'd", "let's", "lets", "will", "would", "should", "could", "can", "can't", "cannot", "must",
        "need", "needs", "have", "has", "had", "do", "does", "did", "done", "not", "no", "don't", "didn't", "won't",
        "just", "also", "now", "still", "yet", "already", "then", "than", "too", "very", "really", "some", "any",
        "hasn't", "haven't", "isn't", "aren't", "wasn't", "weren't", "doesn't", "couldn't", "shouldn't", "wouldn't",
        "all", "more", "most", "other", "into", "about", "over", "after", "before", "again", "what", "which", "who",
        "when", "where", "why", "how", "ok", "okay", "yes", "yeah", "please", "thanks", "going", "go", "get", "got",
        "make", "sure", "think", "one", "new", "next", "today", "tomorrow", "week", "soon", "way", "thing", "things",
        "decided", "agreed", "blocked", "waiting", "until", "because", "use", "using", "used", "instead", "after",
        "der", "die", "das", "und", "le", "la", "les", "et", "el", "los", "y", "que", "de",
        "mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday", "tonight", "yesterday", "morning", "afternoon", "evening", "off", "back", "later",
    ]

    /// Topic words of `words`, each cut to its first five characters so `migrate`, `migrated` and `migration`
    /// compare equal (identifiers with digits, dots or slashes stay whole).
    static func contentWords(_ words: [String]) -> [String] {
        words.flatMap { word -> [String] in
            // Single digits stay: "item 3" and "item 4" are two items.
            guard !stopwords.contains(word), word.count > 1 || word.first?.isNumber == true else { return [] }
            if word.contains(where: { $0.isNumber || $0 == "/" || $0 == "." || $0 == "_" || $0 == "#" }) {
                // "payments.charges" is itself and "payments" and "charges".
                let parts = word.split(whereSeparator: { "./_#".contains($0) }).filter {
                    $0.count > 2 && !stopwords.contains(String($0)) && !$0.allSatisfy(\.isNumber)
                }
                return [word] + (parts.count > 1 ? parts.map { synonyms[String($0)] ?? stem($0) } : [])
            }
            // "rate-limit" and "rate limits" compare equal; "docs" and "documentation" too.
            return word.split(separator: "-").filter { $0.count > 1 && !stopwords.contains(String($0)) }
                .map { synonyms[String($0)] ?? stem($0) }
        }
    }

    /// The first five letters after a verb or plural ending: "booked", "booking" and "book" are "book";
    /// "migrated" and "migration" are "migra".
    static func stem(_ word: Substring) -> String {
        var base = word
        if base.count > 5 && base.hasSuffix("ing") {
            base = base.dropLast(3)
        } else if base.count > 4 && base.hasSuffix("ed") {
            base = base.dropLast(2)
        } else if base.count > 3 && base.hasSuffix("s") && !base.hasSuffix("ss") {
            base = base.dropLast()
        }
        return String(base.prefix(5))
    }

    /// Short forms whose first five letters differ from the long form's.
    static let synonyms: [String: String] = [
        "doc": "docum", "docs": "docum", "config": "confi", "configs": "confi", "repo": "repos", "repos": "repos",
        "prod": "produ", "env": "envir", "db": "datab", "auth": "authe", "deps": "depen", "k8s": "kuber",
        "idx": "index", "msg": "messa", "msgs": "messa", "pr": "pull", "prs": "pull",
    ]

    /// Verbs too general to name a topic ("take a look", "fix it", "run it").
    static let genericVerbs: Set<String> = [
        "take", "look", "fix", "run", "check", "read", "make", "get", "put", "give", "help", "see", "try", "also",
        "mind", "able", "quick", "bit", "else",
    ]

    /// Content words without the general verbs: what a request is about.
    static func topicWords(_ words: [String]) -> [String] {
        contentWords(words.filter { !genericVerbs.contains($0) })
    }

    static let fillers: Set<String> = [
        "ok", "okay", "so", "alright", "right", "well", "anyway", "also", "and", "but", "ah", "oh", "hmm", "fyi",
        "btw", "update", "note", "ps", "great", "cool", "sure", "yes", "yeah", "yep", "good", "fine", "thanks", "ack",
    ]

    /// The item as stored: fillers before the first comma or colon dropped ("ok, let's go with X" → "let's go with
    /// X"), the first letter kept as written, cut at `limit` characters.
    static func itemText(_ sentence: String, limit: Int) -> String {
        var text = Substring(sentence)
        for _ in 0..<3 {
            guard let stop = text.firstIndex(where: { $0 == "," || $0 == ":" || $0 == " " || $0 == "-" || $0 == "—" })
            else { break }
            let head = text[..<stop].lowercased().filter { $0.isLetter }
            guard fillers.contains(head) else { break }
            text = text[text.index(after: stop)...].drop { $0 == " " || $0 == "," || $0 == ":" || $0 == "-" || $0 == "—" }
        }
        let result = String(text)
        return result.count <= limit ? result : String(result.prefix(limit - 1)) + "…"
    }
}

/// How alike two items are, weighting rare words more (inverse document frequency over the sentences read).
struct ItemSimilarity {
    private var documentFrequency: [String: Int] = [:]
    private var documents = 0

    /// Counts each sentence's distinct topic words.
    mutating func learn(_ contentWords: [String]) {
        documents += 1
        for word in Set(contentWords) { documentFrequency[word, default: 0] += 1 }
    }

    func weight(_ word: String) -> Double {
        let frequency = Double(documentFrequency[word] ?? 0)
        return log((Double(documents) + 1) / (frequency + 0.5))
    }

    /// The weight of the words two items share over the weight of the smaller item: 1 when one item's topic
    /// is wholly in the other, 0 when they share nothing.
    func score(_ a: [String], _ b: [String]) -> Double {
        let first = Set(a), second = Set(b)
        guard !first.isEmpty, !second.isEmpty else { return 0 }
        // Summed in sorted order: the same figures in every process, so a threshold never flips between runs.
        func total(_ words: Set<String>) -> Double { words.sorted().reduce(0) { $0 + weight($1) } }
        let shared = total(first.intersection(second))
        let smaller = min(total(first), total(second))
        return smaller > 0 ? shared / smaller : 0
    }
}

#if canImport(Glibc)
    import Glibc
#endif
