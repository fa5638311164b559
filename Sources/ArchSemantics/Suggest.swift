import ArchCore

/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    public static func distance(_ a: String, _ b: String) -> Int { EditDistance.between(a, b) }

    /// The closest candidate, if it is close enough to be a likely typo.
    public static func nearest(_ word: String, in candidates: [String]) -> String? {
        guard word.utf8.count <= 64 else { return nil }
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return nil }
        let limit = max(1, min(3, (word.count + 1) / 3))
        // A one-letter name is "close" to every other: suggest only when something is shared.
        if best.1 <= limit && best.1 < max(word.count, best.0.count) { return best.0 }
        // A prefix or containment match (`attn` for `attention`).
        return candidates.first { $0.hasPrefix(word) && word.count >= 3 }
    }

    public static func didYouMean(_ word: String, in candidates: [String]) -> String {
        nearest(word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}
