/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count), cur = prev
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[y.count]
    }

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
