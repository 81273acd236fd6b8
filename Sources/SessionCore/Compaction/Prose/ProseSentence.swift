/// One sentence of a message, as the embedded summarizer's rules read it.
struct ProseSentence: Sendable {
    /// The sentence as written (bullet and marker removed), trimmed.
    var text: String
    /// Lowercased words: letters and digits, with apostrophes kept inside (`we'll`, `can't`), so cue phrases
    /// match whole words.
    var words: [String]
    /// An explicit marker that opened the line (`TODO:`, `- [x]`, `DECISION:` …), if any.
    var marker: ItemMarker?
    /// Ended with `?`.
    var isQuestion: Bool
    /// The index of its message in the messages being read.
    var message: Int
    var role: String
    /// Its number in a numbered list ("2. Is offline mode in scope?"), for answers that say "On 2: …".
    var ordinal: Int? = nil
}

/// The markers of the marked-line convention, which win over any cue in the sentence.
enum ItemMarker: Sendable, Equatable {
    case completed, resolved, pending, decision, blocker, cancelled

    static let prefixes: [(prefix: String, marker: ItemMarker)] = [
        ("done:", .completed), ("completed:", .completed), ("fixed:", .completed), ("[x]", .completed),
        ("todo:", .pending), ("to do:", .pending), ("pending:", .pending), ("next:", .pending), ("[ ]", .pending),
        ("action item:", .pending), ("open question:", .pending), ("question:", .pending), ("tbd:", .pending),
        ("action:", .pending), ("follow-up:", .pending), ("next up:", .pending), ("agreed:", .decision),
        ("approved:", .decision), ("shipped:", .completed), ("merged:", .completed),
        ("decision:", .decision), ("decided:", .decision), ("blocker:", .blocker), ("blocked:", .blocker),
        ("resolved:", .resolved), ("unblocked:", .resolved),
    ]

    /// The marker at the start of `text` (case ignored) and what follows it.
    static func strip(_ text: Substring) -> (ItemMarker, Substring)? {
        let head = text.prefix(14).lowercased()
        guard let found = prefixes.first(where: { head.hasPrefix($0.prefix) }) else { return nil }
        return (found.marker, text.dropFirst(found.prefix.count).drop { $0 == " " || $0 == "\t" })
    }
}

/// Splits messages into sentences, leaving out what is not the speaker's own prose.
///
/// Left out: `tool` messages (command output, file contents), fenced code
/// blocks, quoted lines (`> …`, someone else's words), shell prompts and
/// lines that are mostly symbols (logs, tables, diffs). Kept: each line,
/// each list item, and each sentence within them (split after `.`, `!`, `?`
/// or `;` followed by a space, but not after common abbreviations, initials,
/// or inside version numbers and paths).
enum ProseSplitter {
    static func sentences(of content: String, message: Int, role: String) -> [ProseSentence] {
        guard role != "tool" else { return [] }
        var result: [ProseSentence] = []
        var inFence = false
        // The kind a heading such as "Action items:" or "Open questions" gives the list items under it.
        var section: ItemMarker?
        var lastLine = -1
        for (lineNumber, rawLine) in content.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .enumerated()
        {
            var line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("```") || line.hasPrefix("~~~") {
                inFence.toggle()
                continue
            }
            if line.isEmpty { section = nil }
            if inFence || isNotProse(line, indented: rawLine.hasPrefix("    ") || rawLine.hasPrefix("\t")) { continue }
            if let heading = headingSection(line) {
                section = heading
                continue
            }
            let (bulletless, ordinal) = stripBullet(line)
            let isListItem = bulletless.count < line.count
            if !isListItem { section = nil }
            line = bulletless
            var marker: ItemMarker? = isListItem ? section : nil
            line = stripSpeaker(line)
            if let (found, rest) = ItemMarker.strip(line) {
                marker = found
                line = rest
            }
            // "~~Windows MSI~~ skipped": struck through, so no longer to do.
            if line.hasPrefix("~~"), let end = line.dropFirst(2).range(of: "~~") {
                marker = .cancelled
                line = line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]
            }
            for (segment, segmentMarker) in standupParts(line, marker: marker) {
                for (index, piece) in mergedShortPieces(split(segment)).enumerated() {
                    let trimmed = trim(piece)
                    guard !trimmed.isEmpty else { continue }
                    var sentenceMarker = index == 0 ? segmentMarker : nil
                    var body = Substring(trimmed)
                    // "DONE: x. DECISION: y" carries a marker in a later sentence too.
                    if sentenceMarker == nil, let (found, rest) = ItemMarker.strip(body), found != .pending || body.contains(":") {
                        sentenceMarker = found
                        body = rest
                    }
                    let text = String(body)
                    guard !text.isEmpty else { continue }
                    // "BLOCKER: macOS signing. Our Developer ID cert expired." The sentences after a marked one, up to
                    // the next marker, explain its item: they join it.
                    if sentenceMarker == nil, index > 0, let last = result.last, last.marker != nil, last.message == message,
                        last.marker != .cancelled, lastLine == lineNumber
                    {
                        // In place and bounded: a megabyte-long marked line is not tokenized again per sentence.
                        if last.text.utf8.count < 2_000 {
                            result[result.count - 1].text += ". " + text
                            result[result.count - 1].words += Words.of(text)
                        }
                        continue
                    }
                    lastLine = lineNumber
                    result.append(
                        ProseSentence(
                            text: text, words: Words.of(text), marker: sentenceMarker, isQuestion: text.hasSuffix("?"),
                            message: message, role: role, ordinal: index == 0 ? ordinal : nil))
                }
            }
        }
        return result
    }

    /// Lines that are not prose: quotes, prompts, code, logs and tables.
    static func isNotProse(_ line: Substring, indented: Bool) -> Bool {
        if line.hasPrefix(">") || line.hasPrefix("$ ") || line.hasPrefix("#!") || line.hasPrefix("//")
            || line.hasPrefix("|") || line.hasPrefix("+++") || line.hasPrefix("---") || line.hasPrefix("@@")
        {
            return true
        }
        // Indented lines are code unless they are list items ("    - sub item").
        if indented, let first = line.first, !"-*•".contains(first), !(first.isNumber && line.dropFirst().hasPrefix(".")) {
            return true
        }
        var letters = 0
        var others = 0
        for character in line.prefix(200) {
            if character.isLetter || character == " " { letters += 1 } else { others += 1 }
        }
        // Log lines, JSON, stack frames: more symbols and digits than words.
        return letters < 3 || others * 2 > letters + others
    }

    /// The line without its bullet or list number, and the number.
    static func stripBullet(_ line: Substring) -> (Substring, Int?) {
        var rest = line
        if let first = rest.first, first == "-" || first == "*" || first == "•" || first == "+" {
            if rest.dropFirst().first == " " || rest.dropFirst().first == "[" {
                rest = rest.dropFirst().drop { $0 == " " }
            }
        } else if let dot = rest.prefix(4).firstIndex(where: { $0 == "." || $0 == ")" }),
            rest[..<dot].allSatisfy(\.isNumber), !rest[..<dot].isEmpty, rest[rest.index(after: dot)...].first == " "
        {
            let number = Int(rest[..<dot])
            return (rest[rest.index(after: dot)...].drop { $0 == " " }, number)
        }
        return (rest, nil)
    }

    static let headings: [(words: Set<String>, marker: ItemMarker)] = [
        (["action items", "next steps", "todo", "todos", "to do", "to-do", "follow-ups", "follow ups", "followups",
          "open questions", "questions", "remaining", "outstanding", "still to do", "open items"], .pending),
        (["decisions", "decided", "agreed", "what we decided", "outcomes"], .decision),
        (["blockers", "blocked", "blocking"], .blocker),
        (["done", "completed", "shipped", "finished", "done this week"], .completed),
    ]

    /// The kind a heading line gives the list under it: "Action items:", "## Open questions", "**Decisions**".
    static func headingSection(_ line: Substring) -> ItemMarker? {
        let text = line.lowercased().filter { !"#*_:".contains($0) }.trimmingCharacters(in: " ")
        guard text.count <= 24, line.hasSuffix(":") || line.hasPrefix("#") || !text.contains(" ") || text.split(separator: " ").count <= 3
        else { return nil }
        return headings.first { $0.words.contains(text) }?.marker
    }

    /// Drops a speaker or topic label at the start of a chat line: "dana: ", "d: ", "re rollout: ", "cho — ".
    /// Markers ("TODO:") and anything longer than two words before the colon stay.
    static func stripSpeaker(_ line: Substring) -> Substring {
        var line = line
        // "[09:12] priya: …", "09:12 priya: …": a time stamp first.
        if line.hasPrefix("["), let close = line.prefix(12).firstIndex(of: "]"),
            line[..<close].contains(":"), line[..<close].contains(where: \.isNumber)
        {
            line = line[line.index(after: close)...].drop { $0 == " " }
        } else if let space = line.prefix(9).firstIndex(of: " "), line[..<space].contains(":"),
            line[..<space].allSatisfy({ $0.isNumber || $0 == ":" })
        {
            line = line[line.index(after: space)...].drop { $0 == " " }
        }
        // "@oskar (review) …", "@nadia-k Good point": a handle, and a role in parentheses after it.
        if line.hasPrefix("@"), let space = line.firstIndex(of: " ") {
            line = line[line.index(after: space)...].drop { $0 == " " }
            if line.hasPrefix("("), let close = line.prefix(24).firstIndex(of: ")") {
                line = line[line.index(after: close)...].drop { $0 == " " || $0 == ":" }
            }
        }
        guard let colon = line.prefix(24).firstIndex(where: { $0 == ":" || $0 == "—" }) else { return line }
        let label = line[..<colon].split(separator: " ")
        guard !label.isEmpty, label.count <= 2, label.allSatisfy({ $0.allSatisfy { $0.isLetter || $0 == "@" || $0 == "-" } })
        else { return line }
        let rest = line[line.index(after: colon)...].drop { $0 == " " }
        guard !rest.isEmpty, ItemMarker.strip(line) == nil, headingSection(line[...colon]) == nil else { return line }
        return rest
    }

    /// A stand-up line "y: … t: … b: …" (yesterday, today, blockers) as three parts: done, to do, blocking
    /// (a "b: none" blocks nothing). Any other line is itself, with its marker.
    static func standupParts(_ line: Substring, marker: ItemMarker?) -> [(Substring, ItemMarker?)] {
        let lower = line.lowercased()
        guard lower.hasPrefix("y:"), lower.contains(" t:") || lower.contains(" b:") else { return [(line, marker)] }
        var parts: [(Substring, ItemMarker?)] = []
        var rest = line.dropFirst(2)
        var current: ItemMarker? = .completed
        while !rest.isEmpty {
            let next = [" t:", " b:"].compactMap { rest.range(of: $0) }.min { $0.lowerBound < $1.lowerBound }
            let text = rest[..<(next?.lowerBound ?? rest.endIndex)].drop { $0 == " " }
            let words = Words.of(String(text))
            if !words.isEmpty, !(words.count <= 2 && words.contains { ["none", "nothing", "nope", "n/a"].contains($0) }) {
                parts.append((text, current))
            }
            guard let next else { break }
            current = rest[next].hasSuffix("t:") ? .pending : .blocker
            rest = rest[next.upperBound...]
        }
        return parts
    }

    static let bareAnswers: Set<String> = ["no", "yes", "nope", "yep", "yeah", "correct", "agreed", "right", "sure"]

    /// Joins a bare answer to the sentence after it: "On 1: No. macOS and Linux only" is one answer.
    static func mergedShortPieces(_ pieces: [Substring]) -> [Substring] {
        var result: [Substring] = []
        var carry: Substring?
        for piece in pieces {
            let words = Words.of(String(piece))
            if let held = carry {
                result.append(held.base[held.startIndex..<piece.endIndex])
                carry = nil
            } else if words.count <= 3, let last = words.last, bareAnswers.contains(last), piece != pieces.last {
                carry = piece
            } else {
                result.append(piece)
            }
        }
        if let carry { result.append(carry) }
        return result
    }

    static let abbreviations: Set<String> = [
        "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "approx", "cf", "no", "fig", "inc", "ltd", "jr", "sr",
        "z.b", "bzw", "usw", "ca", "p.s",
    ]

    /// Splits a line after `.`, `!`, `?` or `;` followed by a space (and for `.`, a capital, digit or quote next).
    static func split(_ line: Substring) -> [Substring] {
        var pieces: [Substring] = []
        var start = line.startIndex
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            let next = line.index(after: index)
            if ".!?;".contains(character), next < line.endIndex, line[next] == " " {
                let follower = line[next...].drop { $0 == " " }.first
                var cut = character != "."
                // Chat starts sentences in lower case too: "agree. and the indexer isn't the bottleneck".
                if character == ".", let follower, follower.isLetter || follower.isNumber || "\"'“‘(".contains(follower) {
                    let original = line[start..<index].split(separator: " ").last.map(String.init) ?? ""
                    let word = original.lowercased()
                    // "e.g. Foo", "Dr. Who", and an initial "J. Smith" do not end a sentence ("step 3. Then" does).
                    let initial = original.count == 1 && original.first?.isUppercase == true
                    cut = !abbreviations.contains(word.trimmingCharacters(in: "(")) && !initial
                }
                if cut {
                    pieces.append(line[start...index])
                    start = next
                }
            }
            index = next
        }
        if start < line.endIndex { pieces.append(line[start...]) }
        return pieces
    }

    /// Trims spaces and a final period (kept: `?`, `!` and `...`).
    static func trim(_ piece: Substring) -> String {
        var text = piece.drop { $0 == " " || $0 == "\t" }
        while let last = text.last, last == " " || last == "\t" || last == ";" { text = text.dropLast() }
        if text.hasSuffix(".") && !text.hasSuffix("..") { text = text.dropLast() }
        return String(text)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

/// Lowercased words of a text, for matching cue phrases.
enum Words {
    static func of(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        func flush() {
            // An apostrophe at either end is a quote, not part of the word.
            while current.hasSuffix("'") { current.removeLast() }
            if !current.isEmpty { words.append(current) }
            current = ""
        }
        // "w/" is chat for "with".
        let text = text.contains(" w/ ") ? text.replacing(" w/ ", with: " with ") : text
        for character in text {
            if character.isLetter || character.isNumber {
                current.append(contentsOf: character.lowercased())
            } else if character == "'" || character == "’" {
                if !current.isEmpty { current.append("'") }
            } else if (character == "-" || character == "_" || character == "/" || character == ".") && !current.isEmpty {
                // Keep identifiers whole: sign-off, follow-up, src/db.rs, v2.3.1.
                current.append(character)
            } else {
                while let last = current.last, "-_/.".contains(last) { current.removeLast() }
                flush()
            }
        }
        while let last = current.last, "-_/.".contains(last) { current.removeLast() }
        flush()
        return words
    }
}
