import Testing
@testable import SessionCore

@Test func zzDebug() {
    let texts = ["Lucía: ¿Soportamos Android 8? Nadie lo sabe todavía. Producto no ha dicho nada y el 6% de los repartidores lo usa."]
    for s in ProseSplitter.sentences(of: texts[0], message: 0, role: "user") { print("DEBUG", s.text, s.isQuestion, ItemCues.classify(s) as Any) }
    let messages = texts.enumerated().map { StoredMessage(seq: Int64($0.offset + 1), role: "user", content: $0.element) }
    let result = EmbeddedSummarizer().summarize(SummaryInput(checkpoint: Checkpoint(), messages: messages))
    print("DEBUG pending", result.pending)
}
