/// Picks the sentences worth keeping in a compaction's summary paragraph.
///
/// Each sentence is scored by the salience of its topic words (TF-IDF over the
/// sentences being compacted: words frequent here and rare across them score
/// high), damped by length, with more weight for the user's words (rules and
/// corrections) and for recent sentences. Sentences that became items are
/// left out: the lists carry them. The best are kept in their original order.
enum SummaryHighlights {
    static func pick(
        _ sentences: [ProseSentence], itemSentences: Set<Int>, similarity: ItemSimilarity, count: Int
    ) -> [ProseSentence] {
        guard !sentences.isEmpty else { return [] }
        var termFrequency: [String: Int] = [:]
        let words = sentences.map { ItemText.contentWords($0.words) }
        for list in words { for word in Set(list) { termFrequency[word, default: 0] += 1 } }
        let last = Double(max(1, sentences.last!.message))
        var scored: [(index: Int, score: Double)] = []
        for (index, sentence) in sentences.enumerated() where !itemSentences.contains(index) {
            let topic = Set(words[index])
            guard topic.count >= 3 else { continue }  // "ok, thanks" and the like say nothing worth keeping
            let salience = topic.sorted().reduce(0.0) { total, word in
                total + log(1 + Double(termFrequency[word] ?? 0)) * similarity.weight(word)
            }
            let role = sentence.role == "user" ? 1.3 : 1.0
            let recency = 0.75 + 0.5 * Double(sentence.message) / last
            scored.append((index, salience / Double(topic.count).squareRoot() * role * recency))
        }
        let best = scored.sorted { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }.prefix(count)
        return best.map(\.index).sorted().map { sentences[$0] }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
