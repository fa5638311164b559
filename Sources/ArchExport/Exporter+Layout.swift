import Foundation
import ArchSemantics
import ArchIR

/// Layout and sequence ops: views, permutations, positions, the class token, concatenation.
extension Exporter {
    mutating func reshapeLayer(_ n: Graph.Node) throws {
        try reshape(try input(n), from: shape(n.inputs[0]), to: shape(n.output), out: out)
    }

    mutating func permute(_ n: Graph.Node) throws {
        let rank = shape(n.inputs[0]).count
        var perm = Array(0..<rank)
        if n.op == .transpose {
            perm.swapAt(n.axis("a", rank: rank, default: 0), n.axis("b", rank: rank, default: 0))
        } else if case .list(let vs)? = n.args["dims"] {
            perm = vs.compactMap { if case .int(let d) = $0 { return d < 0 ? d + rank : d } else { return nil } }
        }
        transpose(try input(n), perm, out: out)
    }

    /// Positions added to the tokens [b, n, d]: the first n rows of a learned tensor [1, max, d] or
    /// of a table [max, d], or sinusoids (a constant table for a known n, computed for a symbolic one).
    mutating func positions(_ n: Graph.Node) throws {
        let x = try input(n), tokens = shape(n.inputs[0])[1], width = try channels(n, axis: -1)
        let table: String
        switch n.word("kind") ?? "learned" {
        case "sinusoidal":
            table = try sinusoids(tokens, width)
        case "table":
            table = try rows(try required("weight"), tokens, axis: 0)
        default:
            let learned = try required("")
            let max = graph.params[n.params[0]].shape[1]
            table = tokens.value == max ? learned : try rows(learned, tokens, axis: 1)
        }
        b.op("Add", [x, table], out: out)
    }

    /// The first `count` entries of `t` along `axis`.
    mutating func rows(_ t: String, _ count: Dim, axis: Int) throws -> String {
        b.op("Slice", [t, b.ints([0]), try size(count), b.ints([axis])])
    }

    /// Sinusoidal positions [n, d]: sin(p / 10000^(i / d)) at even i, cos at i + 1.
    mutating func sinusoids(_ tokens: Dim, _ width: Int) throws -> String {
        let half = (width + 1) / 2
        let frequencies = (0..<half).map { 1 / pow(10000, Double(2 * $0) / Double(width)) }
        if let n = tokens.value {
            var table = [Float](repeating: 0, count: n * width)
            for p in 0..<n { for (k, f) in frequencies.enumerated() {
                table[p * width + 2 * k] = Float(sin(Double(p) * f))
                if 2 * k + 1 < width { table[p * width + 2 * k + 1] = Float(cos(Double(p) * f)) }
            } }
            return b.floats(table, dims: [n, width], name: "\(b.scope).sinusoids")
        }
        let positions = b.op("Cast", [b.op("Range", [b.intScalar(0), try scalarSize(tokens), b.intScalar(1)])], [.i("to", 1)])
        let f = b.floats(frequencies.map { Float($0) }, dims: [1, half], name: "\(b.scope).frequencies")
        let angles = b.op("Mul", [b.op("Unsqueeze", [positions, b.ints([1])]), f])
        let pairs = b.op("Concat", [b.op("Unsqueeze", [b.op("Sin", [angles]), b.ints([2])]),
                                    b.op("Unsqueeze", [b.op("Cos", [angles]), b.ints([2])])], [.i("axis", 2)])
        let table = reshape(pairs, [0, -1])
        return width % 2 == 0 ? table : b.op("Slice", [table, b.ints([0]), b.ints([width]), b.ints([1])])
    }

    /// The learned token [1, 1, d] before the sequence, repeated over the batch.
    mutating func classToken(_ n: Graph.Node) throws {
        let token = try required(""), s = shape(n.inputs[0])
        let repeated = s[0].value == 1 ? token : b.op("Expand", [token, try shapeTensor([s[0], Dim(1), s[2]])])
        b.op("Concat", [repeated, try input(n)], [.i("axis", 1)], out: out)
    }

    /// The first or last token, or the mean over the tokens (every dimension between batch and width).
    mutating func take(_ n: Graph.Node) throws {
        var x = try input(n)
        let s = shape(n.inputs[0])
        if s.count != 3 {
            // [b, ..., d] -> [b, tokens, d]: the width a constant, or read at run time.
            let width = try size(s[s.count - 1])
            let target = s[s.count - 1].value.map { b.ints([0, -1, $0]) } ?? b.op("Concat", [b.ints([0, -1]), width], [.i("axis", 0)])
            x = b.op("Reshape", [x, target])
        }
        switch n.word("which") {
        case "mean": b.op("ReduceMean", [x, b.ints([1])], [.i("keepdims", 0)], out: out)
        case "last": b.op("Gather", [x, b.intScalar(-1)], [.i("axis", 1)], out: out)
        default: b.op("Gather", [x, b.intScalar(0)], [.i("axis", 1)], out: out)
        }
    }

    mutating func concat(_ n: Graph.Node) throws {
        let axis = n.axis("dim", rank: shape(n.output).count, default: 1)
        b.op("Concat", try n.inputs.map { try name($0) }, [.i("axis", axis)], out: out)
    }
}
