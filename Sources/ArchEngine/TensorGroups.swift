/// Tensor names folded over their layer indices, so a problem repeated in every layer is reported
/// once: `transformer.h.{0..11}.ln_1.weight` for the twelve `transformer.h.N.ln_1.weight`. A name's
/// pattern has `*` for each all-digit component; names with the same pattern and shape are a group.
struct TensorGroup {
    var pattern: String
    var shape: [Int]
    var members: [String]

    /// `blocks.3.mlp.fc1.weight` -> `blocks.*.mlp.fc1.weight`
    static func pattern(of name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false)
            .map { isIndex($0) ? "*" : String($0) }.joined(separator: ".")
    }

    static func isIndex(_ part: Substring) -> Bool { !part.isEmpty && part.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }

    /// Groups in the order of their first member; `key` may keep apart what differs besides the name and shape.
    static func fold(_ items: [(name: String, shape: [Int])], key: (Int) -> String = { _ in "" }) -> [TensorGroup] {
        var groups: [TensorGroup] = [], at: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let pattern = pattern(of: item.name), k = "\(pattern) \(item.shape) \(key(i))"
            if let g = at[k] { groups[g].members.append(item.name); continue }
            at[k] = groups.count
            groups.append(TensorGroup(pattern: pattern, shape: item.shape, members: [item.name]))
        }
        return groups
    }

    /// What the group is called when compared with another: its one member's name, or its pattern.
    var matchName: String { members.count == 1 ? members[0] : pattern }

    /// The name, or the pattern with each index position's values in braces (`h.{0..11}.attn`) when the
    /// members are every combination of them; else the first name and how many more there are.
    var display: String {
        if members.count == 1 { return "'\(members[0])'" }
        let parts = pattern.split(separator: ".", omittingEmptySubsequences: false)
        var positions: [[Int]] = []
        for (p, part) in parts.enumerated() where part == "*" {
            let values = Set(members.compactMap { m -> Int? in
                let c = m.split(separator: ".", omittingEmptySubsequences: false)
                return p < c.count ? Int(c[p]) : nil
            })
            positions.append(values.sorted())
        }
        guard positions.reduce(1, { $0 * $1.count }) == members.count, positions.allSatisfy({ !$0.isEmpty }) else {
            return "'\(members[0])' and \(members.count - 1) more like it"
        }
        var next = 0
        return "'" + parts.map { part -> String in
            guard part == "*" else { return String(part) }
            defer { next += 1 }
            return Self.describe(positions[next])
        }.joined(separator: ".") + "'"
    }

    /// `{0..11}`, `{0, 2, 5}`, `{0..3, 7}`, or the one value.
    static func describe(_ values: [Int]) -> String {
        if values.count == 1 { return String(values[0]) }
        var runs: [String] = [], i = 0
        while i < values.count {
            var j = i
            while j + 1 < values.count, values[j + 1] == values[j] + 1 { j += 1 }
            runs.append(j - i >= 2 ? "\(values[i])..\(values[j])" : (i...j).map { String(values[$0]) }.joined(separator: ", "))
            i = j + 1
        }
        return "{" + runs.joined(separator: ", ") + "}"
    }

    /// `12 tensors 'h.{0..11}.ln_1.weight'` or `tensor 'fc.weight'`.
    var counted: String { members.count == 1 ? "tensor \(display)" : "\(members.count) tensors \(display)" }
}
