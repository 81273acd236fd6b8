// Deterministic mixed corpus for the benchmark: the same bytes on every run
// and machine (seeded SplitMix64, no Foundation randomness), so throughput
// figures and the tiktoken comparison are reproducible.

/// SplitMix64: tiny, fast, and fully specified, unlike SystemRandomNumberGenerator.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Builds agent-conversation-like text: prose, code, JSON, CJK, emoji, other
/// scripts and whitespace runs, in randomly chosen segments.
enum Corpus {
    static let words = """
        the a of to and in is that for it as with was on be by this are or from at an have not \
        session broker message token request response latency throughput cache checkpoint agent \
        model context window budget queue worker thread buffer socket database index schema \
        migration deploy rollback config timeout retry error warning metric histogram percentile \
        however meanwhile although because therefore unexpected deterministic asynchronous \
        serialization concurrency idempotent observability infrastructure don't can't we'll it's
        """.split(separator: " ").map(String.init)
    static let identifiers = [
        "sessionID", "maxTokens", "user_id", "fetchMessages", "HTTPClient",
        "parse_config", "self", "count", "result", "payload", "i", "idx",
    ]
    static let han = Array(
        "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切"
    )
    static let kana: [Character] = Array(
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー")
    static let hangul = ["안녕하세요", "데이터베이스", "세션", "확인했습니다", "서버", "오류가", "발생했습니다", "감사합니다"]
    static let otherScripts = [
        "Привет", "сервер", "ошибка", "مرحبا", "الخادم", "नमस्ते", "सर्वर", "γεια", "διακομιστής",
        "สวัสดีครับ", "ข้อผิดพลาด", "Müller", "Łódź", "São", "Tiếng Việt", "façade", "naïve",
    ]
    static let emoji = ["😀", "🚀", "👍🏽", "❤️", "👨‍👩‍👧‍👦", "🇯🇵", "🔥", "✅", "❌", "⚠️", "🧪", "1️⃣", "🏳️‍🌈", "™️"]

    /// At least `minimumBytes` of UTF-8, identical for a given seed.
    static func generate(minimumBytes: Int, seed: UInt64 = 0x5eed_cafe) -> String {
        var rng = SplitMix64(seed: seed)
        var out = ""
        out.reserveCapacity(minimumBytes + 4096)
        while out.utf8.count < minimumBytes {
            switch rng.below(10) {
            case 0, 1, 2: out += prose(&rng)
            case 3, 4: out += code(&rng)
            case 5, 6: out += json(&rng)
            case 7: out += cjk(&rng)
            case 8: out += mixedUnicode(&rng)
            default: out += whitespace(&rng)
            }
        }
        return out
    }

    static func sentence(_ rng: inout SplitMix64) -> String {
        var s = (0..<(5 + rng.below(14))).map { _ in rng.pick(words) }.joined(separator: " ")
        s = s.prefix(1).uppercased() + s.dropFirst()
        if rng.below(4) == 0 { s += " (\(rng.below(100_000)) items, \(rng.below(1000)).\(rng.below(100)) ms)" }
        return s + rng.pick([".", ".", ".", "!", "?", ";", ":"])
    }

    static func prose(_ rng: inout SplitMix64) -> String {
        (0..<(2 + rng.below(6))).map { _ in sentence(&rng) }.joined(separator: " ") + "\n\n"
    }

    static func code(_ rng: inout SplitMix64) -> String {
        let name = rng.pick(identifiers), arg = rng.pick(identifiers)
        let indent = rng.below(2) == 0 ? "    " : "\t"
        return """
            func \(name)(\(arg): Int, label: String) throws -> [String: Any] {
            \(indent)guard \(arg) > \(rng.below(512)) else { throw BrokerError.invalid("\(rng.pick(words))") }
            \(indent)let value = try await client.\(rng.pick(identifiers))(id: \(rng.below(1 << 20)), retries: \(rng.below(9)))
            \(indent)// \(sentence(&rng))
            \(indent)return ["\(rng.pick(identifiers))": value, "n": \(arg) * 0x\(String(rng.below(1 << 24), radix: 16))]
            }


            """
    }

    static func json(_ rng: inout SplitMix64) -> String {
        let uuid = (0..<4).map { _ in String(rng.next() & 0xffff_ffff, radix: 16) }.joined(separator: "-")
        return """
            {"tool_outputs": [{"call_id": "call_\(uuid)", "status": \(rng.pick([200, 201, 404, 500])), \
            "output": "\(sentence(&rng))\\n\(sentence(&rng))", "metrics": {"p50_ms": \(rng.below(1000)).\(rng.below(1000)), \
            "bytes": \(rng.next() % 10_000_000_000), "ok": \(rng.below(2) == 0)}, "tags": ["\(rng.pick(words))", null]}]}

            """
    }

    static func cjk(_ rng: inout SplitMix64) -> String {
        var s = ""
        for _ in 0..<(3 + rng.below(6)) {
            switch rng.below(3) {
            case 0:
                let chars: [Character] = (0..<(8 + rng.below(30))).map { _ in rng.pick(han) }
                s += String(chars)
                s += rng.pick(["，", "。", "！", "？"])
            case 1:
                let chars: [Character] = (0..<(6 + rng.below(20))).map { _ in rng.pick(kana) }
                s += String(chars)
                s += "。"
            default:
                let words: [String] = (0..<(3 + rng.below(6))).map { _ in rng.pick(hangul) }
                s += words.joined(separator: " ")
                s += ". "
            }
        }
        return s + "\n"
    }

    static func mixedUnicode(_ rng: inout SplitMix64) -> String {
        (0..<(8 + rng.below(16))).map { _ in
            rng.below(3) == 0 ? rng.pick(emoji) : rng.pick(otherScripts)
        }.joined(separator: rng.pick([" ", " ", "\u{00a0}", "\u{3000}", ""])) + "\n"
    }

    static func whitespace(_ rng: inout SplitMix64) -> String {
        let run = String(repeating: rng.pick([" ", "\t", "\n", "\r\n", "  \n"]), count: 1 + rng.below(60))
        return rng.pick(words) + run + String(repeating: " ", count: rng.below(8)) + rng.pick(words) + "\n"
    }
}
