import Foundation
import ArchSemantics
import ArchKernels

/// The attention itself, softmax(q kᵀ / sqrt(dh) + masks) v, and rotary positions, as archc's kernels
/// compute them: grouped-query heads (query head h reads key/value head h / (heads / kvheads)), the
/// causal mask (query i sees keys up to i + m - n), the key padding mask (keys marked 0 get -inf; a row
/// with no key left is zeros, as transformers' SDPA gives it).
extension Exporter {
    /// q [b, heads, n, dh], k and v [b, kvheads, m, dh] -> [b, heads, n, dh].
    mutating func attend(_ q: String, _ k: String, _ v: String, dh: Int, heads: Int, kvHeads: Int, causal: Bool, mask: Int?,
                         queries n: Dim, keys m: Dim) throws -> String {
        let group = heads / kvHeads
        // Grouped heads: q as [b, kvheads, group, n, dh] against k, v [b, kvheads, 1, m, dh], broadcast by MatMul.
        let (qq, kk, vv) = group == 1 ? (q, k, v)
            : (reshape(q, [0, kvHeads, group, -1, dh]), b.op("Unsqueeze", [k, b.ints([2])]), b.op("Unsqueeze", [v, b.ints([2])]))
        let rank = group == 1 ? 4 : 5
        let keysT = transpose(kk, Array(0..<(rank - 2)) + [rank - 1, rank - 2])
        var scores = b.op("Mul", [b.op("MatMul", [qq, keysT]), b.scalar(1 / Float(dh).squareRoot())])
        if causal { scores = b.op("Add", [scores, try causalMask(n, m)]) }
        if let mask { scores = b.op("Add", [scores, try keyMask(mask, rank: rank)]) }
        var probabilities = b.op("Softmax", [scores], [.i("axis", -1)])
        if mask != nil || (causal && n != m) {
            // A row with every key masked is NaN after the softmax; archc gives zeros.
            probabilities = b.op("Where", [b.op("IsNaN", [probabilities]), b.scalar(0), probabilities])
        }
        let context = b.op("MatMul", [probabilities, vv])
        return group == 1 ? context : reshape(context, [0, heads, -1, dh])
    }

    /// [n, m]: 0 where query i may see key j (j <= i + m - n), -inf past it. A constant for known
    /// sizes, else made from Range at run time; one per pair of sizes, shared by the layers.
    mutating func causalMask(_ n: Dim, _ m: Dim) throws -> String {
        let key = "causal \(n) \(m)"
        if let mask = shared[key] { return mask }
        let mask: String
        if let rows = n.value, let cols = m.value {
            var values = [Float](repeating: 0, count: rows * cols)
            for i in 0..<rows { for j in 0..<cols where j > i + cols - rows { values[i * cols + j] = -.infinity } }
            mask = b.floats(values, dims: [rows, cols], name: "causal_mask[\(rows),\(cols)]")
        } else {
            let (rows, cols) = (try scalarSize(n), try scalarSize(m))
            let i = b.op("Range", [b.intScalar(0), rows, b.intScalar(1)]), j = b.op("Range", [b.intScalar(0), cols, b.intScalar(1)])
            let last = b.op("Add", [i, b.op("Sub", [cols, rows])])
            let hidden = b.op("Greater", [b.op("Unsqueeze", [j, b.ints([0])]), b.op("Unsqueeze", [last, b.ints([1])])])
            mask = b.op("Where", [hidden, b.scalar(-.infinity), b.scalar(0)], out: b.reserve("causal_mask"))
        }
        shared[key] = mask
        return mask
    }

    /// The key padding mask [b, m] of 1 and 0 as scores to add, [b, 1, ..., 1, m]: -inf where 0.
    mutating func keyMask(_ mask: Int, rank: Int) throws -> String {
        let key = "key mask %\(mask) \(rank)"
        if let m = shared[key] { return m }
        let zero = graph.values[mask].kind == .int ? b.intScalar(0) : b.scalar(0)
        let padding = b.op("Where", [b.op("Equal", [try name(mask), zero]), b.scalar(-.infinity), b.scalar(0)])
        let m = b.op("Unsqueeze", [padding, b.ints(Array(1...(rank - 2)))], out: b.reserve("\(try name(mask))/scores"))
        shared[key] = m
        return m
    }

    /// Where the rows of a rotation sit: keys at 0..<m, queries at the last n of them.
    enum RotaryPositions {
        case keys(Dim)
        case queries(Dim, of: Dim)
    }

    /// x [b, heads, t, dh] turned per head: `half` pairs feature i with i + dh/2 (transformers'
    /// rotate_half), `interleaved` pairs 2i with 2i + 1, by the angle position x base^(-2i / dh).
    mutating func rotate(_ x: String, interleaved: Bool, dh: Int, base: Double, positions: RotaryPositions) throws -> String {
        let half = dh / 2
        let (cos, sin) = try rotaryTables(dh: dh, base: base, positions: positions)
        if !interleaved {
            let x1 = b.op("Slice", [x, b.ints([0]), b.ints([half]), b.ints([-1])]), x2 = b.op("Slice", [x, b.ints([half]), b.ints([dh]), b.ints([-1])])
            let y1 = b.op("Sub", [b.op("Mul", [x1, cos]), b.op("Mul", [x2, sin])])
            let y2 = b.op("Add", [b.op("Mul", [x2, cos]), b.op("Mul", [x1, sin])])
            return b.op("Concat", [y1, y2], [.i("axis", -1)])
        }
        let pairs = reshape(x, [0, 0, 0, half, 2])
        let x1 = b.op("Slice", [pairs, b.ints([0]), b.ints([1]), b.ints([-1])]), x2 = b.op("Slice", [pairs, b.ints([1]), b.ints([2]), b.ints([-1])])
        let (c, s) = (b.op("Unsqueeze", [cos, b.ints([-1])]), b.op("Unsqueeze", [sin, b.ints([-1])]))
        let y1 = b.op("Sub", [b.op("Mul", [x1, c]), b.op("Mul", [x2, s])]), y2 = b.op("Add", [b.op("Mul", [x2, c]), b.op("Mul", [x1, s])])
        return reshape(b.op("Concat", [y1, y2], [.i("axis", -1)]), [0, 0, 0, dh])
    }

    /// The cosines and sines [t, dh / 2] of the rows' angles: constants (archc's own table) for known
    /// sizes, else position x inverse frequency computed at run time (both in float32, as transformers).
    mutating func rotaryTables(dh: Int, base: Double, positions: RotaryPositions) throws -> (String, String) {
        let (start, end): (Dim, Dim)
        switch positions {
        case .keys(let m): (start, end) = (Dim(0), m)
        case .queries(let n, let m): (start, end) = (try m + n.times(-1), m)
        }
        let key = "rope \(dh) \(base) \(start) \(end)"
        if let t = shared[key], let s = shared[key + " sin"] { return (t, s) }
        let half = dh / 2
        let tables: (String, String)
        if let first = start.value, let last = end.value {
            var table = [Float](repeating: 0, count: (last - first) * dh)
            table.withUnsafeMutableBufferPointer { Rotary.table(positions: last - first, start: first, width: dh, base: base, into: $0.baseAddress!) }
            let rows = (0..<(last - first))
            let cos = rows.flatMap { table[($0 * dh)..<($0 * dh + half)] }, sin = rows.flatMap { table[($0 * dh + half)..<($0 * dh + dh)] }
            let name = "rope[\(first)..<\(last),\(dh),\(base)]"
            tables = (b.floats(cos, dims: [last - first, half], name: name + ".cos"), b.floats(sin, dims: [last - first, half], name: name + ".sin"))
        } else {
            let inverse = (0..<half).map { 1 / powf(Float(base), Float(2 * $0) / Float(dh)) }
            let range = b.op("Range", [try scalarSize(start), try scalarSize(end), b.intScalar(1)])
            let column = b.op("Unsqueeze", [b.op("Cast", [range], [.i("to", 1)]), b.ints([1])])
            let angles = b.op("Mul", [column, b.floats(inverse, dims: [1, half], name: "rope_inverse_frequencies[\(dh),\(base)]")])
            tables = (b.op("Cos", [angles]), b.op("Sin", [angles]))
        }
        (shared[key], shared[key + " sin"]) = tables
        return tables
    }
}
