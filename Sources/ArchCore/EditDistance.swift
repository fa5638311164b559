/// Edit distance between names, for "did you mean" suggestions in the checker and near matches
/// when a weights file does not fit a network.
public enum EditDistance {
    /// Insertions, deletions and substitutions (on UTF-8 bytes) from `a` to `b`, capped at `limit`;
    /// names longer than 256 bytes are compared on their first 256.
    public static func between(_ a: String, _ b: String, limit: Int = .max) -> Int {
        let x = Array(a.utf8.prefix(256)), y = Array(b.utf8.prefix(256))
        if x.isEmpty || y.isEmpty { return min(max(x.count, y.count), limit) }
        var prev = Array(0...y.count), cur = prev
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return min(prev[y.count], limit)
    }
}
