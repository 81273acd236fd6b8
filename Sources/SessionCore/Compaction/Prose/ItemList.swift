/// One checkpoint list while a summary is built: items in order, found by the words they share.
///
/// An open item is closed by the report most like it, and a new item is
/// dropped when one like it is listed: both look for alike items. Comparing
/// with every item costs a session of thousands of items seconds, so each
/// word indexes the items holding it, and a lookup reads only the postings of
/// the query's heaviest words (the ones that can make two items alike).
/// Removal is lazy: ids stay in `order` and postings and are skipped.
struct ItemList {
    struct Item {
        var text: String
        var words: [String]
        /// From the checkpoint this compaction started with.
        var inherited: Bool
    }

    private var order: [Int] = []
    private var items: [Int: Item] = [:]
    private var postings: [String: [Int]] = [:]
    private var nextID = 0

    init(_ items: [Item] = []) { for item in items { append(item) } }

    var texts: [String] { order.compactMap { items[$0]?.text } }
    var isEmpty: Bool { items.isEmpty }
    subscript(id: Int) -> Item? { items[id] }

    mutating func append(_ item: Item) {
        let id = nextID
        nextID += 1
        order.append(id)
        items[id] = item
        for word in Set(item.words) { postings[word, default: []].append(id) }
    }

    @discardableResult
    mutating func remove(_ id: Int) -> Item? { items.removeValue(forKey: id) }

    /// Puts `item` where `id` was, keeping its place in the order.
    mutating func replace(_ id: Int, with item: Item) {
        guard items[id] != nil else { return }
        items[id] = item
        for word in Set(item.words) { postings[word, default: []].append(id) }
    }

    var lastID: Int? { order.last { items[$0] != nil } }

    func id(ofText text: String) -> Int? { order.first { items[$0]?.text == text } }

    /// Ids of the items that share one of `words`' telling words, in list order: the heaviest (within a third of
    /// the heaviest weight, eight at most), and any word few items hold. A word most items hold ("step") cannot
    /// make two items alike on its own, and reading its postings would cost a scan.
    func candidates(for words: [String], weight: (String) -> Double) -> [Int] {
        // Sorted, so ties between equal weights fall the same way in every process (Set order is seeded per process).
        let distinct = Array(Set(words)).sorted()
        let weights = distinct.map(weight)
        guard let heaviest = weights.max(), heaviest > 0 else { return [] }
        let heavy = Set(
            zip(distinct, weights).filter { $0.1 >= heaviest / 3 }.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
                .prefix(8).map(\.0))
        var found = Set<Int>()
        for word in distinct {
            guard let list = postings[word], heavy.contains(word) || list.count <= 32 else { continue }
            for id in list where items[id] != nil { found.insert(id) }
        }
        return found.sorted()
    }
}
