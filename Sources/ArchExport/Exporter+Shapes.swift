import ArchSemantics

/// Sizes at run time. A size the graph knows is a constant; a symbolic one (`batch`, `seq + 1`) is
/// computed from the shape of a tensor that has it (an input, or an earlier layer's output), so the
/// model runs at any size. Reshapes copy a size in place (0) or infer one (-1) where they can, and
/// compute the rest.
extension Exporter {
    /// A 1-element int64 tensor holding the size `d`.
    mutating func size(_ d: Dim) throws -> String {
        if let v = d.value { return b.ints([v]) }
        let key = "size \(d)"
        if let s = shared[key] { return s }
        var sum: String?
        for atom in d.atoms {
            var t = try atomSize(atom)
            let c = d.terms[atom]!
            if c != 1 { t = b.op("Mul", [t, b.ints([c])]) }
            sum = sum.map { b.op("Add", [$0, t]) } ?? t
        }
        var s = sum!
        if d.constant != 0 { s = b.op("Add", [s, b.ints([d.constant])]) }
        shared[key] = s
        return s
    }

    /// The size a symbol stands for, read from the first tensor that has it as a dimension.
    mutating func atomSize(_ atom: String) throws -> String {
        let key = "atom \(atom)"
        if let s = shared[key] { return s }
        let target = Dim(symbol: atom)
        let candidates = graph.inputs.map(\.value) + graph.nodes[..<node].map(\.output)
        for v in candidates {
            guard let axis = shape(v).firstIndex(of: target), let n = names[v] else { continue }
            let s = b.op("Shape", [n], [.i("start", axis), .i("end", axis + 1)])
            shared[key] = s
            return s
        }
        throw ExportError("\(current.op) at \(current.loc.description) needs the size \(atom), which no earlier tensor has as a dimension",
                          notes: ["bind the sizes in it with --set instead of keeping them symbolic with --dynamic"])
    }

    /// The size as a 0-d int64 tensor (Range's bounds).
    mutating func scalarSize(_ d: Dim) throws -> String {
        if let v = d.value { return b.intScalar(v) }
        return b.op("Squeeze", [try size(d), b.ints([0])])
    }

    /// A 1-d int64 tensor of sizes (Expand's shape): constants where known.
    mutating func shapeTensor(_ dims: [Dim]) throws -> String {
        if dims.allSatisfy(\.isKnown) { return b.ints(dims.map { $0.value! }) }
        var pieces: [String] = [], run: [Int] = []
        for d in dims {
            if let v = d.value { run.append(v); continue }
            if !run.isEmpty { pieces.append(b.ints(run)); run = [] }
            pieces.append(try size(d))
        }
        if !run.isEmpty { pieces.append(b.ints(run)) }
        return b.op("Concat", pieces, [.i("axis", 0)])
    }

    /// `x` (of shape `from`) reshaped to `to`: sizes the graph knows as constants, a symbolic size
    /// at the same place in both as 0 (copied), one other symbolic size as -1 (inferred), and any
    /// more computed at run time.
    @discardableResult
    mutating func reshape(_ x: String, from: [Dim], to: [Dim], out: String? = nil) throws -> String {
        var parts: [Int?] = to.enumerated().map { i, d in d.value ?? (i < from.count && from[i] == d ? 0 : nil) }
        let unknown = parts.indices.filter { parts[$0] == nil }
        if let first = unknown.first { parts[first] = -1 }
        let target: String
        if unknown.count <= 1 {
            target = b.ints(parts.map { $0! })
        } else {
            var pieces: [String] = []
            for (i, p) in parts.enumerated() { pieces.append(try p.map { b.ints([$0]) } ?? size(to[i])) }
            target = b.op("Concat", pieces, [.i("axis", 0)])
        }
        return b.op("Reshape", [x, target], out: out)
    }

    /// Reshapes whose sizes are all known or copied: `[0, 0, 3, heads, dh]`.
    @discardableResult
    mutating func reshape(_ x: String, _ parts: [Int], out: String? = nil) -> String {
        b.op("Reshape", [x, b.ints(parts)], out: out)
    }

    @discardableResult
    mutating func transpose(_ x: String, _ perm: [Int], out: String? = nil) -> String {
        b.op("Transpose", [x], [.ints("perm", perm)], out: out)
    }
}
