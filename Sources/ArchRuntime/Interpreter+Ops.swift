import Foundation
import ArchSemantics
import ArchKernels

extension Interpreter {
    func execute(_ node: Graph.Node) throws -> [Float] {
        let inShape = try shape(node.inputs[0])
        let outShape = try shape(node.output)
        switch node.op {
        case "identity", "dropout", "flatten", "reshape":
            return input(node)
        case "relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish":
            var x = takeInput(node)
            Elementwise.apply(node.op, approx: word(node, "approx"), &x)
            return x
        case "softmax":
            var x = takeInput(node)
            let d = int(node, "dim") ?? -1
            guard d == -1 || d == inShape.count - 1 else { throw RuntimeError("softmax over dimension \(d) is not supported yet; only the last") }
            let width = inShape.last!, rows = x.count / width
            x.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: rows, width: width) }
            return x
        case "linear":
            let inF = inShape.last!, out = outShape.last!
            return linear(input(node), rows: input(node).count / inF, inF: inF, weight: paramID(node, "weight")!, bias: param(node, "bias"), out: out)
        case "conv", "patch":
            return try conv(node, inShape, outShape)
        case "batchnorm":
            var x = takeInput(node)
            let c = inShape[1], plane = inShape.dropFirst(2).reduce(1, *)
            let mean = param(node, "running_mean")!, variance = param(node, "running_var")!
            let w = param(node, "weight"), b = param(node, "bias")
            let eps = float(node, "eps") ?? 1e-5
            for n in 0..<inShape[0] { for ch in 0..<c {
                let scale = (w?[ch] ?? 1) / (variance[ch] + eps).squareRoot()
                let shift = (b?[ch] ?? 0) - mean[ch] * scale
                let base = (n * c + ch) * plane
                for i in 0..<plane { x[base + i] = x[base + i] * scale + shift }
            } }
            return x
        case "layernorm", "rmsnorm":
            var x = takeInput(node)
            Elementwise.normalizeRows(&x, width: inShape.last!, eps: float(node, "eps") ?? (node.op == "rmsnorm" ? 1e-6 : 1e-5),
                                      weight: param(node, "weight"), bias: param(node, "bias"), rms: node.op == "rmsnorm")
            return x
        case "maxpool", "avgpool":
            return pool(node, inShape, outShape)
        case "adaptive_avgpool", "globalpool":
            return adaptivePool(input(node), inShape, outShape, max: word(node, "mode") == "max")
        case "transpose", "permute":
            var perm = Array(0..<inShape.count)
            if node.op == "transpose" {
                let a = (int(node, "a")! + inShape.count) % inShape.count, b = (int(node, "b")! + inShape.count) % inShape.count
                perm.swapAt(a, b)
            } else if case .list(let vs)? = node.args["dims"] {
                perm = vs.compactMap { if case .int(let n) = $0 { return n } else { return nil } }
            }
            return Self.permute(input(node), inShape, perm)
        case "cls":
            let token = bareParam(node)!
            let (b, n, d) = (inShape[0], inShape[1], inShape[2])
            let x = input(node)
            var y = [Float](repeating: 0, count: b * (n + 1) * d)
            for i in 0..<b {
                for j in 0..<d { y[i * (n + 1) * d + j] = token[j] }
                for j in 0..<(n * d) { y[i * (n + 1) * d + d + j] = x[i * n * d + j] }
            }
            return y
        case "pos":
            var x = takeInput(node)
            let (b, n, d) = (inShape[0], inShape[1], inShape[2])
            let table: [Float]
            switch word(node, "kind") ?? "learned" {
            case "sinusoidal": table = Self.sinusoid(n, d)
            case "table": table = param(node, "weight")!
            default: table = bareParam(node)!
            }
            for i in 0..<b { for j in 0..<(n * d) { x[i * n * d + j] += table[j] } }
            return x
        case "take":
            let x = input(node)
            let b = inShape[0], d = inShape.last!, n = inShape.dropFirst().dropLast().reduce(1, *)
            var y = [Float](repeating: 0, count: b * d)
            for i in 0..<b {
                switch word(node, "which") {
                case "mean":
                    for t in 0..<n { for j in 0..<d { y[i * d + j] += x[(i * n + t) * d + j] } }
                    for j in 0..<d { y[i * d + j] /= Float(n) }
                case "last":
                    for j in 0..<d { y[i * d + j] = x[(i * n + n - 1) * d + j] }
                default:
                    for j in 0..<d { y[i * d + j] = x[i * n * d + j] }
                }
            }
            return y
        case "embed":
            let table = param(node, "weight")!
            let d = int(node, "dim")!, vocab = int(node, "vocab")!
            if node.inputs.count > 1 {
                var x = takeInput(node)
                let ids = input(node, 1)
                for (t, id) in ids.enumerated() {
                    let row = try Self.tokenRow(id, vocab)
                    for j in 0..<d { x[t * d + j] += table[row * d + j] }
                }
                return x
            }
            let ids = input(node)
            var y = [Float](repeating: 0, count: ids.count * d)
            for (t, id) in ids.enumerated() {
                let row = try Self.tokenRow(id, vocab)
                for j in 0..<d { y[t * d + j] = table[row * d + j] }
            }
            return y
        case "add", "mul":
            var y = takeInput(node)
            for k in 1..<node.inputs.count {
                let other = input(node, k), oShape = try shape(node.inputs[k])
                guard oShape == outShape && inShape == outShape else {
                    throw RuntimeError("broadcasting \(node.op) is not supported by the interpreter yet")
                }
                if node.op == "add" { for i in y.indices { y[i] += other[i] } } else { for i in y.indices { y[i] *= other[i] } }
            }
            return y
        case "mlp":
            let d = inShape.last!, rows = input(node).count / d
            let h = int(node, "hidden")!, o = outShape.last!
            var mid = linear(input(node), rows: rows, inF: d, weight: paramID(node, "fc1.weight")!, bias: param(node, "fc1.bias"), out: h)
            let act = word(node, "act") ?? "gelu"
            Elementwise.apply(act == "gelu_tanh" ? "gelu" : act, approx: act == "gelu_tanh" ? "tanh" : nil, &mid)
            return linear(mid, rows: rows, inF: h, weight: paramID(node, "fc2.weight")!, bias: param(node, "fc2.bias"), out: o)
        case "attention":
            if node.args["window"] != nil { return windowAttention(node, inShape) }
            return try attention(node, inShape, outShape)
        case "swiglu":
            let d = inShape.last!
            return swiglu(node, input(node), rows: input(node).count / d, d: d, hidden: int(node, "hidden")!, out: outShape.last!)
        case "moe": return moe(node, inShape)
        case "sgu": return try sgu(node, inShape)
        case "patchmerge": return patchmerge(node, inShape, outShape)
        case "rnn", "lstm", "gru": return recurrent(node, inShape)
        case "convt": return convTranspose(node, inShape, outShape)
        case "concat": return try concat(node, outShape)
        case "groupnorm": return groupnorm(node, inShape)
        case "adaptive_maxpool": return adaptivePool(input(node), inShape, outShape, max: true)
        case "upsample":
            guard word(node, "mode") != "bilinear" else { throw RuntimeError("bilinear upsampling is not supported by the interpreter yet") }
            return upsampleNearest(input(node), inShape, outShape)
        default:
            throw RuntimeError("the interpreter does not run '\(node.op)' yet", notes: ["at \(node.loc.description)"])
        }
    }

    static func tokenRow(_ id: Float, _ vocab: Int) throws -> Int {
        let row = Int(id)
        guard row >= 0 && row < vocab && Float(row) == id else { throw RuntimeError("token id \(id) is outside the vocabulary of \(vocab)") }
        return row
    }

    static func sinusoid(_ n: Int, _ d: Int) -> [Float] {
        var t = [Float](repeating: 0, count: n * d)
        for p in 0..<n { for i in stride(from: 0, to: d, by: 2) {
            let angle = Double(p) / pow(10000, Double(i) / Double(d))
            t[p * d + i] = Float(sin(angle))
            if i + 1 < d { t[p * d + i + 1] = Float(cos(angle)) }
        } }
        return t
    }

    static func permute(_ x: [Float], _ shape: [Int], _ perm: [Int]) -> [Float] {
        let r = shape.count
        var strides = [Int](repeating: 1, count: r)
        for i in stride(from: r - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        let outShape = perm.map { shape[$0] }
        var y = [Float](repeating: 0, count: x.count)
        var idx = [Int](repeating: 0, count: r)
        for o in 0..<x.count {
            var src = 0
            for k in 0..<r { src += idx[k] * strides[perm[k]] }
            y[o] = x[src]
            var k = r - 1
            while k >= 0 { idx[k] += 1; if idx[k] < outShape[k] { break }; idx[k] = 0; k -= 1 }
        }
        return y
    }
}
