/// What a sentence says about the session's items.
enum ItemSignal: Sendable, Equatable {
    /// A choice made ("let's go with PostgreSQL", "we decided not to use Kafka").
    case decision
    /// A choice that replaces an earlier one ("scratch that, we'll use SQLite after all").
    case reversal
    /// Work still to do, a request, or a question still open.
    case pending
    /// "Nobody knows yet": a question stays open (the question itself is the item).
    case unresolved
    /// Something stops the work ("blocked on ops for the key", "can't deploy until …").
    case blocker
    /// A blocker no longer blocks ("ops sent the key, we're unblocked").
    case cleared
    /// Work reported done ("I migrated the schema", "PR #482 is merged").
    case completed
    /// A pending item no longer needed ("we don't need to rewrite the parser after all").
    case cancelled
    /// A short answer to the question just asked ("I'd say no"): the question and the answer make the decision.
    case answer
}

/// The documented cues (Protocols/AGENTBROKER-RPC.md section 18.4): which phrases make a sentence a decision,
/// an open item, a blocker or completed work, with negation, questions, proposals and tense in mind.
enum ItemCues {
    /// "Do we support Windows?", "Who owns the Jenkins box?": a question for the team, which stays open until
    /// something answers it (not "did you see the new keyboard?").
    static func isTeamQuestion(_ sentence: ProseSentence) -> Bool {
        guard sentence.isQuestion, sentence.words.count >= 4, ItemText.topicWords(sentence.words).count >= 2 else {
            return false
        }
        let words = sentence.words
        let start = words.prefix(while: { !["do", "should", "are", "will", "shall", "can", "who", "is", "does"].contains($0) })
        guard start.count < words.count - 1 else { return false }
        let opener = words[start.count], next = words[start.count + 1]
        switch opener {
        case "who": return ["owns", "signs", "will", "decides", "is", "looks"].contains(next)
        case "is", "does": return ["the", "this", "our", "it"].contains(next) && words.contains { ["we", "our", "v1", "scope"].contains($0) }
        default: return ["we", "our", "us"].contains(next)
        }
    }

    /// The signal of one sentence, or nil for a sentence that states no item.
    static func classify(_ sentence: ProseSentence) -> ItemSignal? {
        // A marked line still needs a topic: "t: off tomorrow, back fri" lists nothing.
        if let marker = sentence.marker, marker != .cancelled && marker != .resolved,
            ItemText.contentWords(sentence.words).isEmpty
        {
            return nil
        }
        if let marker = sentence.marker {
            switch marker {
            case .completed: return .completed
            case .resolved: return .cleared
            case .pending: return .pending
            case .decision: return .decision
            case .blocker: return .blocker
            case .cancelled: return .cancelled
            }
        }
        let words = sentence.words
        // "Unresolved." and "Still open." are short: they point back to the question.
        if words.count < 3 && unresolved.contains(words) { return .unresolved }
        // Headings ("Action items", "Open questions:") and fragments name no item.
        guard words.count >= 3, !sentence.text.hasSuffix(":") else { return nil }
        if againstIt.contains(words) { return .decision }
        if unresolved.contains(words) { return .unresolved }
        if sentence.isQuestion {
            // A question is an item as a request ("could you add a test?"), or when it asks the team something.
            if requests.contains(words) && ItemText.topicWords(words).count >= 2 { return .pending }
            return nil  // a question stays open only when someone says so ("nobody knows", "open question")
        }
        if releaseBlocker.contains(words) { return .decision }  // "BUG-2291 is a release blocker": a ruling
        if cancelling.contains(words) { return .cancelled }
        // "Please don't circulate the cost table": a rule to keep, not work to do.
        if dontDo.contains(words) { return nil }
        if clearing.contains(words) { return .cleared }
        if blocking.contains(words) || (cannot.contains(words) && until.contains(words)) || needsApproval(words)
            || othersApprove.contains(words)
        {
            return .blocker
        }
        // A leading "if" makes the rest conditional: "if people agree I'll turn this into an RFC".
        let tentative = proposals.contains(words) || words.first == "if"
        if answers.firstMatch(in: words).map({ $0.start <= 1 }) == true { return .answer }
        // "Yes. Sniff the delimiter and fall back to comma": an answer that says what to do.
        if ["yes", "no", "yep", "nope"].contains(words[0]) && words.count >= 5 && !sentence.text.lowercased().hasPrefix("no,")
        {
            return .answer
        }
        // "I'll stream rows into the writer instead of loading whole sessions": an approach chosen over another.
        if futureWork(words) && approachChosen.contains(words) { return .decision }
        if strongDecision.contains(words) || negativeDecision.contains(words) || words.prefix(3).contains("agreed") {
            return reversing.contains(words) ? .reversal : .decision
        }
        // "keeping 7 daily, 4 weekly going forward", "dropping the offline mode": a choice, subject left out.
        if ["keeping", "dropping", "sticking", "switching", "standardising", "standardizing"].contains(words[0]) && !tentative
            && ItemText.topicWords(words).count >= 2
        {
            return .decision
        }
        // "Protobuf it is": the choice said last. "No Rust rewrite", "no more big-bang deploys": a choice not to.
        let settled =
            words.suffix(2) == ["it", "is"] || words.suffix(2) == ["it's", "settled"]
            || (words.first == "no" && words[1] == "more" && words.count >= 4)
            || (words.first == "no" && words.count <= 5 && !notChoices.contains(words[1])
                && !sentence.text.lowercased().hasPrefix("no,") && ItemText.topicWords(words).count >= 1)
        if !tentative && (decisionCues.contains(words) || collectiveChoice(words) || settled) {
            return reversing.contains(words) ? .reversal : .decision
        }
        let topic = ItemText.contentWords(words).count
        // "I've sent Grace the setting they need to change": the report leads, the obligation is someone else's.
        if words.count > 2, ["i've", "we've", "i", "we", "just"].contains(words[0]), workPast.contains(words[1]) {
            return .completed
        }
        // "Everything on Ping must be migrated by September 15": a rule set, not a task listed.
        if requirement.contains(words) && !tentative { return .decision }
        if (notYetDone.contains(words) || obligations.contains(words)) && topic >= 1 && !relativeMust.contains(words) {
            return .pending
        }
        if !tentative && isCompletion(words) { return .completed }
        // Weak cues ("please", "let's", "I'll") need a topic: "please go on" and "I'll check" are no items.
        if tentative || topic < 2 { return nil }
        if relativeMust.contains(words) { return nil }
        if pendingCues.contains(words) || futureWork(words) || assigned(words) { return .pending }
        return nil
    }

    // MARK: Cue lists

    static let unresolved = PhraseSet([
        "nobody|no-one knows", "no one knows", "open question|questions", "still open", "still unclear",
        "unclear whether|if|how|what|who|when|which", "not clear yet", "not sure yet", "tbd", "to be decided|determined|confirmed",
        "still undecided", "undecided", "haven't decided|settled", "have not decided", "need to decide|figure",
        "needs to be decided", "yet to be decided", "still unanswered", "unanswered", "no answer yet",
        "nobody has answered", "still an open", "leave|leaving|leaves|left that|it|this open", "nobody's|nobody sure",
        "no one's|one_is sure", "nobody is sure", "don't|dont know", "do not know", "anyone's|anybody's decided",
        "anyone has decided", "hasn't|has_not been decided|answered|settled", "never answered", "unresolved",
        "nadie lo sabe", "nadie sabe", "personne ne sait", "on ne sait pas", "weiß niemand", "keiner weiß",
        "noch offen", "toujours ouvert", "question ouverte", "pregunta abierta", "not decided|decide",
        "nobody|no-one|no_one has decided|answered", "nobody's decided",
        "don't|not decide", "undecided",
    ])

    static let requests = PhraseSet([
        "could|can|would|will you", "could|can|would|will somebody|someone|anyone", "mind adding|writing|fixing|checking",
    ])

    static let cancelling = PhraseSet([
        "no need to|for", "don't|dont|won't|doesn't need to", "do not need to", "not needed", "no longer needed|necessary",
        "don't|dont think we|you need|have", "no rewrite|change|changes",
        "not necessary", "unnecessary", "never mind", "nevermind", "can drop|skip the", "drop that|the idea",
        "we can skip", "not worth doing", "won't be needed",
    ])

    static let clearing = PhraseSet([
        "unblocked", "no longer blocked|blocking|stuck", "not blocked anymore|any", "isn't blocking|blocked",
        "blocker is|has gone|resolved|cleared|lifted|removed", "blocker's gone|resolved", "can proceed|continue now",
        "can finally|now proceed|continue|move|deploy|start|ship|merge", "arrived", "came through|in", "has come through|in",
        "have|has been granted|approved|restored", "was|were granted|approved|restored", "got|received|have the|our access|key|keys|credentials|approval|sign-off",
        "got|received access|key|keys|credentials|approval|sign-off",
        "finally got|have|received", "sign-off came|is|has", "signed off", "back up", "is|are back", "entsperrt",
        "débloqué", "desbloqueado", "ok|okay|fine|works|working|fixed now", "green|working|passing|back again",
    ])

    static let blocking = PhraseSet([
        "blocked on|by|until|waiting|pending", "blocker is|for|here|right", "main|only|current|our blocker|blockers",
        "blocking us|the|this|our|deployment|release|merge",
        "waiting on|for", "still waiting", "awaiting", "waits on|for", "wait on", "held up|back by|on|until", "stuck on|until|waiting|without",
        "on hold", "gated on|by", "depends on|upon", "dependent on", "need|needs access", "no access", "don't|doesn't have access",
        "lack|lacks access", "pending approval|review|sign-off|signoff", "can't|cannot move forward",
        "parked on|behind|until", "stuck behind", "frozen until", "hold * until", "gate|gates the|our|this",
        "waiting to hear", "no response|reply|word from", "haven't|hasn't heard back", "still no word|reply|response",
        "hasn't|haven't replied|responded|answered", "dependency on", "prerequisite", "not possible until|without",
        "bloccato|bloccati|bloccata", "in attesa di", "aspettiamo", "finché non",
        "held hostage", "blockiert", "warten auf", "warten noch auf", "wartet auf", "bloqué|bloqués|bloquée|bloquées",
        "en attente", "bloqueado|bloqueados", "esperando", "no podemos", "tant que",
    ])

    /// An unblocking said outright, which may name no blocker ("we're unblocked!"): the latest one is meant.
    static let unblocked = PhraseSet([
        "unblocked", "no longer blocked", "not blocked anymore|any", "blocker is|has gone|resolved|cleared|lifted",
        "entsperrt", "débloqué", "desbloqueado",
    ])

    static let cannot = PhraseSet([
        "can't|cannot|couldn't|unable", "can not", "not able", "won't be able", "no podemos", "tampoco podemos",
        "ne pouvons|peut pas",
        "können nicht", "dürfen * nicht",
    ])
    static let until = PhraseSet([
        "until|till|til|unless|without|before", "because|since", "hasta|sin", "tant que", "sans", "bis|ohne|vorher",
    ])

    static let proposals = PhraseSet([
        "what if", "how about", "maybe|perhaps|possibly", "we could|might", "i could|might", "could we|i",
        "i wonder", "wondering", "suppose|supposing", "might be worth", "would it", "shall we", "should we",
        "i propose|suggest", "my proposal|suggestion", "proposal", "alternatively", "one option|idea",
        "thinking about|of", "considering", "consider", "do we", "are we", "not sure", "i'm|i_am not sure",
        "hypothetically", "vielleicht", "peut-être", "quizás|quizá", "someone floated|suggested|proposed",
        "suggested|proposed|floated we|that|using|moving|buying|switching",
        "somebody floated|suggested|proposed", "was floated|suggested|proposed",
    ])

    /// Decisions that stand even in a tentative-sounding sentence.
    static let strongDecision = PhraseSet([
        "decided|decision|decisions", "we|i|team|everyone|all|we've|i've agreed", "we|i have agreed", "have all agreed", "agreed to|on|that",
        "settled on|it", "final call|decision|answer", "signed off on", "approved the|using", "ruled out",
        "right call|choice", "the call is", "is|are a release blocker", "consensus is|was", "going forward",
        "way to go", "way forward", "no to", "is|are the way", "going fwd", "stays|stay on|with", "it was agreed|decided", "we've|we_have settled|decided|chosen",
        "festgelegt", "vereinbart", "wir bleiben bei", "on reste sur", "convenu", "retenu", "acordamos",
        "abbiamo deciso", "si è deciso", "decidiamo", "confermato", "approvato", "andiamo con", "useremo", "i think|reckon we should", "i'm|i_am against|for it", "we're|we_are against",
        "don't|dont think we should", "do not think we should", "go ahead with|and", "descoped|de-scoped|deprioritised|deprioritized",
        "entschieden", "beschlossen", "décidé|décidée|validé|validée|validated", "d'accord", "einverstanden",
        "decidimos|decidido|decidida", "de acuerdo",
    ])

    static let negativeDecision = PhraseSet([
        "won't|wont be using|adopting", "won't|wont use|adopt|migrate|support|do", "will not use|be|migrate|support|adopt", "not going to use|adopt|go", "rejected", "ruled out",
        "decided against", "dropping|drop the idea",
    ])

    static let decisionCues = PhraseSet([
        "go|going with", "let's|lets use|adopt|keep|pick|choose|standardise|standardize|stick|switch|move|stay|target|ship",
        "we'll use|adopt|keep|stick|switch|stay|standardise|standardize|target|go|honour|honor|support|ship|move",
        "i'll use|adopt|keep|stick", "not going to", "are_not|aren't going to",
        "we|i will use|adopt|keep|stick|switch|stay|standardise|standardize|target|go|honour|honor|support", "opted|opting for|to",
        "chose|chosen|picked|selected", "standardise|standardize|standardising|standardizing on", "stick|sticking with",
        "the plan is", "plan is to", "we're|we_are using|adopting|keeping|switching|moving|standardising|standardizing",
        "switch|switching to", "moving to", "use * instead", "we reckon we'll",
        "moves|moved from", "we're|we_are going to", "let's|lets not", "is|are out", "we're|we_are not", "for now",
        "we're|we_are dropping|removing|killing|sunsetting|deprecating|keeping|retiring", "the plan",
        "will be deprecated|removed|dropped|retired|replaced|kept|frozen",
        "not now",
        "nehmen wir", "on part sur", "on garde", "nous gardons", "wir behalten|nehmen", "vamos con|a_usar",
        "seguimos con", "nos quedamos con",
    ])

    static let reversing = PhraseSet([
        "scratch that", "change of plan|plans", "changed our|my mind|minds", "on second thought|thoughts", "after all",
        "reverting|revert to", "reverse|reversing|reversed", "instead", "back to", "no longer going|using",
        "not * after all", "actually let's|we'll|we", "correction", "doch nicht", "finalement",
    ])

    /// Reversals that name no topic yet clearly undo the latest decision ("scratch that, we'll use SQLite").
    static let strongReversing = PhraseSet([
        "scratch that", "change of plan|plans", "changed our|my mind|minds", "on second thought|thoughts", "after all",
        "correction", "doch nicht", "finalement",
    ])

    static let notYetDone = PhraseSet([
        "not done|finished|merged|deployed|fixed|ready|complete|written yet", "isn't|aren't|wasn't done|finished|merged|deployed|fixed|ready|complete",
        "haven't|hasn't finished|merged|deployed|fixed|written|done|started|completed", "still not|hasn't|haven't",
        "not yet", "yet to be",
    ])

    /// Work someone must still do, whatever else the sentence reports ("we need to get the migration done").
    static let obligations = PhraseSet([
        "need|needs to", "have|has to", "must", "got to", "gotta", "still need|have", "we|i need|just a|an|the|some|more",
        "ought to", "make sure", "don't|do forget", "remember to", "will need", "we'll|i'll need", "yet to",
        "muss|müssen", "il faut", "hay que", "tenemos que", "tengo|tiene que", "je dois", "on doit", "nous devons",
        "dobbiamo", "bisogna", "devo", "da fare", "on my list|plate", "needs|need to be",
        "need|needs someone|somebody to",
    ])

    static let pendingCues = PhraseSet([
        "action item|items", "next step is|will", "next steps are", "follow-up|followup ticket|task|issue|item|pr", "i'd|we'd like a|an|the|to",
        "need|needs to", "have|has to", "must", "got to", "gotta", "still need|have", "we|you|someone|somebody should", "ought to",
        "remains|remain to", "yet to", "make sure", "don't|do forget", "remember to", "please",
        "i'm|i_am going to", "plan|planning|intend|intending to", "want|wants to", "outstanding", "remaining", "left to",
        "still missing|outstanding|pending|open", "we'll|i'll need", "is|are missing", "still|left to do",
        "muss|müssen", "il faut", "à faire", "hay que", "tenemos que", "pendiente", "falta|faltan",
    ])

    /// Words after a leading "no" that make it no choice: "no idea", "no answer yet", "no access".
    static let notChoices: Set<String> = [
        "idea", "answer", "worries", "problem", "problems", "access", "date", "one", "way", "need", "longer", "response",
        "reply", "news", "luck", "clue", "update", "word", "rush", "pressure", "thanks", "objection", "objections",
    ]

    static let dontDo = PhraseSet(["please don't|dont|never", "please do not", "do_not|don't circulate|share|forward"])

    static let approachChosen = PhraseSet(["rather than", "instead of", "so that", "as migration"])

    static let releaseBlocker = PhraseSet(["is|are a release|launch|ship blocker", "blocks the|this release|launch"])

    static let requirement = PhraseSet(["must be migrated|moved|retired|removed|deleted|done|finished|shut|switched"])
    /// "Reads that must see their writes": a property of something, not work.
    static let relativeMust = PhraseSet(["that|which|who must"])

    static let againstIt = PhraseSet(["i'm|i_am|we're|we_are against"])

    static let answers = PhraseSet(["i'd|we'd say no|yes", "the answer is|was no|yes", "short answer no|yes"])

    /// Verbs that follow "let's" or "we will" without choosing anything: "let's talk", "we'll see".
    static let noChoiceVerbs: Set<String> = [
        "see", "talk", "discuss", "chat", "meet", "sync", "check", "look", "wait", "hope", "try", "take", "circle",
        "catch", "revisit", "think", "figure", "find", "need", "have", "know", "be", "get", "go", "ask", "not", "also",
        "probably", "maybe", "just", "decide", "say", "put", "call",
    ]

    /// "Let's cap retries at 5", "We will point all reporting at the replica": the team's choice of what to do.
    static func collectiveChoice(_ words: [String]) -> Bool {
        for (index, word) in words.enumerated() {
            var verbIndex: Int?
            if word == "let's" || word == "lets" {
                verbIndex = index + 1
            } else if word == "we'll" {
                verbIndex = index + 1
            } else if word == "we", index + 1 < words.count, words[index + 1] == "will" {
                verbIndex = index + 2 < words.count && words[index + 2] == "not" ? index + 3 : index + 2
            } else if word == "won't", index > 0, words[index - 1] == "we" {
                verbIndex = index + 1  // "we won't renew the Ping contract"
            }
            guard let verbIndex, verbIndex < words.count, !noChoiceVerbs.contains(words[verbIndex]) else { continue }
            if ItemText.topicWords(Array(words[verbIndex...])).count >= 2 { return true }
        }
        return false
    }

    static let futureSubjects: Set<String> = ["i'll", "we'll", "will", "i'm", "can"]

    /// Words that cannot be the person in "Owen to draft the copy" ("nice to have", "time to go").
    static let notAssignees: Set<String> = [
        "time", "nice", "hard", "easy", "good", "how", "what", "need", "want", "going", "has", "have", "due", "next",
        "back", "up", "able", "used", "about", "is", "are", "was", "it", "this", "that", "way", "ready", "happy", "had",
        "trying", "tried", "plan", "planning", "where", "when", "why", "who", "and", "or", "but", "so", "than", "ok",
    ]

    /// "Owen to draft the pricing page copy", "procurement to negotiate 3-year pricing": an assignment.
    static func assigned(_ words: [String]) -> Bool {
        guard words.count >= 4, words[1] == "to", !notAssignees.contains(words[0]), !stopwordLike(words[0]),
            !ItemText.stopwords.contains(words[2]), words[2].allSatisfy(\.isLetter), !isCompletion(words)
        else { return false }
        return ItemText.topicWords(Array(words[2...])).count >= 2
    }

    static func stopwordLike(_ word: String) -> Bool { ItemText.stopwords.contains(word) || word.count < 2 }

    /// Verbs of talking and looking: "I'll ask legal", "I'll check the logs" arrange the work, they are not it.
    static let arrangingVerbs: Set<String> = [
        "be", "not", "never", "ask", "chase", "ping", "nudge", "poke", "tell", "email", "call", "message", "remind",
        "raise", "mention", "talk", "check", "look", "see", "try", "take", "grab", "keep", "leave", "let", "get",
        "go", "have", "think", "run", "rerun", "believe", "report", "share", "send", "post", "put", "give", "wait",
        "follow", "circle", "loop", "sync", "catch", "start", "probably", "also", "just", "then", "happily", "gladly",
        "need", "want", "encode", "handle", "grep", "search", "read", "investigate", "dig", "debug", "reproduce",
        "verify", "double-check", "file", "book", "schedule", "set", "confirm", "answer", "reply", "respond",
        "optimise", "optimize", "revisit", "finish", "continue", "keep",
    ]

    /// "I'll write the runbook entry", "Pete will update the checklist": a person's own future work. Not
    /// "I'll check", "I'll ask ops", "they'll run it" or "I'll take it": the verb must be work and its object
    /// must name something (not a pronoun).
    static func futureWork(_ words: [String]) -> Bool {
        for (index, word) in words.enumerated() where futureSubjects.contains(word) {
            var rest = words[(index + 1)...].prefix(10)
            if word == "i'm" {
                guard rest.first == "going", rest.dropFirst().first == "to" else { continue }
                rest = rest.dropFirst(2)
            } else if word == "can" {
                // "I can write the ranking spec in the meantime": an offer is a commitment.
                guard index > 0, words[index - 1] == "i" || words[index - 1] == "we" else { continue }
            } else if word == "will" {
                // "will" needs a person before it: "Pete will", "I will", "we will".
                guard index > 0, ["i", "we"].contains(words[index - 1]) || words[index - 1].first?.isLetter == true
                else { continue }
                if ["it", "this", "that", "they", "there", "which", "what"].contains(words[index - 1]) { continue }
            }
            // "I'll do that next, and add a line to the changelog": each verb after "I'll" and after "and".
            var clauses = [rest]
            if let and = rest.firstIndex(of: "and"), and + 1 < rest.endIndex { clauses.append(rest[(and + 1)...]) }
            for clause in clauses {
                guard let verb = clause.first, !arrangingVerbs.contains(verb) else { continue }
                // "set up that conversation": the particle is part of the verb.
                let afterVerb = clause.dropFirst().drop { ["up", "out", "down", "over", "off", "in", "through"].contains($0) }
                let object = afterVerb.first ?? ""
                if ["it", "them", "that", "this", "those", "these", "one", "so"].contains(object) { continue }
                if ItemText.contentWords(Array(clause)).count >= 2 { return true }
            }
        }
        return false
    }

    /// "The partition migration needs DBA approval": work that waits for someone's yes.
    static func needsApproval(_ words: [String]) -> Bool {
        guard let index = words.firstIndex(where: { ["approval", "sign-off", "signoff", "clearance", "review"].contains($0) })
        else { return false }
        // "the security review for opening 4222 is still pending"
        if words[index...].contains("pending") && words.contains("still") { return true }
        if words[max(0, index - 4)..<index].contains(where: { ["needs", "need", "requires", "require", "pending"].contains($0) }) {
            return true
        }
        return false
    }

    /// "Their security team has to approve it": someone else's yes, not our work.
    static let othersApprove = PhraseSet(["has|have to approve|sign|clear|ok", "must approve|sign"])

    // MARK: Completion

    /// Past forms of work verbs: what a person reports as done.
    static let workPast: Set<String> = [
        "implemented", "added", "fixed", "merged", "wrote", "written", "finished", "completed", "deployed", "shipped",
        "released", "landed", "migrated", "updated", "upgraded", "removed", "deleted", "refactored", "rewrote",
        "rewritten", "renamed", "moved", "configured", "installed", "created", "published", "pushed", "tagged",
        "closed", "resolved", "documented", "built", "rolled", "cut", "bumped", "patched", "replaced", "converted",
        "ported", "integrated", "enabled", "disabled", "wired", "hooked", "cleaned", "uploaded", "set", "sent",
        "submitted", "opened", "drafted", "delivered", "provisioned", "rotated", "restored", "recorded", "benchmarked",
        "profiled", "automated", "scheduled", "prepared", "reviewed", "tested", "verified", "validated", "signed",
        "booked", "confirmed", "organised", "organized", "arranged", "approved", "invited", "hired", "ordered",
        "purchased", "bought", "renewed", "requested", "filed", "emailed", "shared", "posted", "finalised", "finalized",
        "archived", "split", "extracted", "introduced", "dropped", "switched", "reverted", "backported", "translated",
        "optimised", "optimized", "reproduced", "debugged", "triaged", "addressed", "handled", "sorted",
        "regenerated", "regen'd", "rebased", "retried", "rerun", "reran", "recreated", "rotated", "unblocked",
        "erledigt", "fertig", "gemergt", "gebaut", "gepusht", "aufgeräumt", "migriert", "aktualisiert", "behoben",
        "terminé", "fini", "corrigé", "migré", "déployé", "livré", "terminado", "arreglado", "hecho", "probado",
        "desplegado", "terminada", "hecha", "fatto", "completato", "risolto", "sistemato", "rilasciato", "deployato",
        "configurato", "aggiornato", "freigeschaltet", "aktiviert", "eingerichtet", "activé", "activée",
        "activado", "habilitado", "enabled", "granted",
    ]

    /// Words that say who did it, right before the verb ("I fixed", "we've merged", "just shipped").
    static let doers: Set<String> = [
        "i", "we", "i've", "we've", "ive", "weve", "have", "has", "just", "finally", "already", "also", "now", "and",
        "they", "he", "she", "team", "ops", "been", "was", "were", "got", "is", "are", "it's", "that's", "all",
    ]

    static let doneStates = PhraseSet([
        "is|are|was|were|it's|that's|been|now done|finished|complete|completed|live|merged|deployed|fixed|landed|shipped|released|published|resolved|sorted|closed",
        "is|are now done|finished|complete|live|merged|deployed|fixed|landed|shipped|released|published|up|in|out|ready|working",
        "all done", "ist erledigt|fertig", "est terminé|fait", "está hecho|listo",
    ])

    static let questionWords: Set<String> = ["what", "why", "how", "who", "which", "where", "when", "did", "do", "does"]

    /// Ways of saying something is over: "went through", "is gone", "went live".
    static let finished = PhraseSet([
        "went through|live|out", "is|are gone", "is|are deleted|dropped|retired|paused", "got merged|shipped|deployed",
        "wrapped up", "closed out", "ticked|checked off", "all set", "è fatto|pronto", "sono pronti",
    ])

    static let negations: Set<String> = [
        "not", "never", "no", "don't", "didn't", "doesn't", "haven't", "hasn't", "isn't", "aren't", "wasn't",
        "weren't", "won't", "can't", "cannot", "nicht", "pas", "nunca",
    ]

    /// Verbs whose passive is news ("PR #482 was merged"), unlike history ("it was provisioned in 2021").
    static let deliveryPast: Set<String> = [
        "merged", "deployed", "shipped", "released", "fixed", "landed", "published", "resolved", "closed", "completed",
        "finished", "approved", "granted", "booked", "configured", "sent", "added", "rolled", "renewed", "restored",
    ]

    /// Words before a past form that make it no report: "to be merged", "will have added", "if we moved".
    static let notReporting: Set<String> = [
        "to", "will", "would", "should", "could", "can", "might", "must", "may", "shall", "be", "if", "when", "once",
        "until", "unless", "after", "before", "i'll", "we'll", "you'll", "gets", "get", "getting", "needs", "need",
        "want", "wants", "had", "has", "have", "that", "which", "who",
    ]

    /// "I migrated the schema", "Merged PR #482", "finance sent the mapping", "the guide is up on the wiki now";
    /// not under a negation.
    static func isCompletion(_ words: [String]) -> Bool {
        for (index, word) in words.enumerated() where workPast.contains(word) {
            // "set" is past only in "set up"; "(3) set NOT NULL" is a step.
            if word == "set" && (index + 1 >= words.count || words[index + 1] != "up") { continue }
            let before = words[max(0, index - 3)..<index]
            if before.contains(where: negations.contains) { continue }
            if index == 0 { return true }
            let doer = words[index - 1]
            if ["was", "were", "is", "are", "been", "got"].contains(doer) {
                if deliveryPast.contains(word) { return true }
                continue
            }
            // "I fixed", "we've merged", and a named doer: "Salesforce enabled", "finance sent".
            if doers.contains(doer) || !notReporting.contains(doer) && !words.prefix(1).contains(where: questionWords.contains) {
                return true
            }
        }
        if finished.contains(words) { return true }
        // "The upgrade doc is up on the wiki now", "the mock is up in Figma": a state of being done, said as news.
        if let index = words.firstIndex(where: { ["is", "are", "it's", "that's"].contains($0) }),
            index + 1 < words.count, ["up", "live", "out", "ready", "working", "in", "green"].contains(words[index + 1]),
            words.contains("now") || (words[index + 1] == "up" && index + 2 < words.count && ["in", "on"].contains(words[index + 2]))
        {
            return true
        }
        if words.last == "done" && !words.dropLast().suffix(3).contains(where: negations.contains) { return true }
        if let match = doneStates.firstMatch(in: words) {
            let before = words[max(0, match.start - 2)..<match.start]
            if !before.contains(where: negations.contains) && !words[match.end...].prefix(2).contains("yet") {
                return true
            }
        }
        return false
    }
}
