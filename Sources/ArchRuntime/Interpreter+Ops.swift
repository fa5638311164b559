import Foundation
import ArchSemantics
import ArchKernels
import ArchIR

extension Interpreter {
    /// Runs one step, writing its output into `out` (which is the first input's buffer when the
    /// step runs in place).
    func execute(_ step: Program.Step, _ node: Graph.Node, _ out: UnsafeMutableBufferPointer<Float>) throws {
        let inShape = shape(node.inputs[0])
        let outShape = shape(step.output)
        switch node.op {
        case "identity", "dropout", "flatten", "reshape":
            _ = inPlace(node, out)
        case "relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish":
            Elementwise.apply(node.op, approx: word(node, "approx"), inPlace(node, out))
        case "softmax":
            let x = inPlace(node, out)
            let d = int(node, "dim") ?? -1, axis = d < 0 ? d + inShape.count : d
            let width = inShape[axis], inner = inShape[(axis + 1)...].reduce(1, *)
            if inner == 1 {
                Elementwise.softmaxRows(x.baseAddress!, rows: x.count / width, width: width)
            } else {
                // Softmax along a middle dimension: gather each strided line, normalise, scatter back.
                var line = [Float](repeating: 0, count: width)
                for outer in 0..<(x.count / (width * inner)) { for i in 0..<inner {
                    let base = outer * width * inner + i
                    for j in 0..<width { line[j] = x[base + j * inner] }
                    line.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: 1, width: width) }
                    for j in 0..<width { x[base + j * inner] = line[j] }
                } }
            }
        case "linear":
            let inF = inShape.last!
            linear(input(node).baseAddress!, rows: input(node).count / inF, inF: inF, weight: paramID(node, "weight")!, bias: param(node, "bias"),
                   out: outShape.last!, into: out.baseAddress!, activation: epilogueActivation(step))
        case "conv", "patch":
            try conv(step, node, inShape, outShape, out)
        case "batchnorm":
            let x = inPlace(node, out)
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
        case "layernorm", "rmsnorm":
            Elementwise.normalizeRows(inPlace(node, out), width: inShape.last!, eps: float(node, "eps") ?? (node.op == "rmsnorm" ? .ulpOfOne : 1e-5),
                                      weight: param(node, "weight"), bias: param(node, "bias"), rms: node.op == "rmsnorm")
        case "maxpool", "avgpool":
            pool(node, inShape, outShape, out)
        case "adaptive_avgpool", "globalpool":
            adaptivePool(input(node), inShape, outShape, out, max: word(node, "mode") == "max")
        case "adaptive_maxpool":
            adaptivePool(input(node), inShape, outShape, out, max: true)
        case "transpose", "permute":
            var perm = Array(0..<inShape.count)
            if node.op == "transpose" {
                let a = (int(node, "a")! + inShape.count) % inShape.count, b = (int(node, "b")! + inShape.count) % inShape.count
                perm.swapAt(a, b)
            } else if case .list(let vs)? = node.args["dims"] {
                perm = vs.compactMap { if case .int(let n) = $0 { return n } else { return nil } }
            }
            Self.permute(input(node), inShape, perm, into: out)
        case "cls":
            let token = bareParam(node)!
            let (b, n, d) = (inShape[0], inShape[1], inShape[2])
            let x = input(node)
            for i in 0..<b {
                for j in 0..<d { out[i * (n + 1) * d + j] = token[j] }
                for j in 0..<(n * d) { out[i * (n + 1) * d + d + j] = x[i * n * d + j] }
            }
        case "pos":
            let x = inPlace(node, out)
            let (b, n, d) = (inShape[0], inShape[1], inShape[2])
            let table: [Float]
            switch word(node, "kind") ?? "learned" {
            case "sinusoidal": table = derivedTable { Self.sinusoid(n, d) }
            case "table": table = param(node, "weight")!
            default: table = bareParam(node)!
            }
            for i in 0..<b { for j in 0..<(n * d) { x[i * n * d + j] += table[j] } }
        case "take":
            take(node, inShape, out)
        case "embed":
            let table = param(node, "weight")!
            let d = int(node, "dim")!, vocab = int(node, "vocab")!
            let adding = node.inputs.count > 1
            let ids = input(node, adding ? 1 : 0)
            if adding { _ = inPlace(node, out) }
            for (t, id) in ids.enumerated() {
                let row = try Self.tokenRow(id, vocab)
                for j in 0..<d { out[t * d + j] = (adding ? out[t * d + j] : 0) + table[row * d + j] }
            }
        case "add", "mul":
            try combine(node, outShape, out)
        case "mlp":
            let d = inShape.last!, rows = input(node).count / d, hidden = int(node, "hidden")!
            let mid = workspace.buffer(0, rows * hidden)
            let act = word(node, "act") ?? "gelu"
            let epilogue = Self.kernelActivation(act)
            linear(input(node).baseAddress!, rows: rows, inF: d, weight: paramID(node, "fc1.weight")!, bias: param(node, "fc1.bias"), out: hidden,
                   into: mid.baseAddress!, activation: epilogue ?? .none)
            if epilogue == nil { Elementwise.apply(act, approx: nil, mid) }
            linear(mid.baseAddress!, rows: rows, inF: hidden, weight: paramID(node, "fc2.weight")!, bias: param(node, "fc2.bias"),
                   out: outShape.last!, into: out.baseAddress!)
        case "attention":
            if node.args["window"] != nil { windowAttention(node, inShape, out) } else { try attention(node, inShape, outShape, out) }
        case "swiglu":
            let d = inShape.last!
            store(swiglu(node, Array(input(node)), rows: input(node).count / d, d: d, hidden: int(node, "hidden")!, out: outShape.last!), out)
        case "moe": moe(node, inShape, out)
        case "sgu": try sgu(node, inShape, out)
        case "patchmerge": patchmerge(node, inShape, outShape, out)
        case "rnn", "lstm", "gru": store(recurrent(node, inShape), out)
        case "convt": convTranspose(node, inShape, outShape, out)
        case "concat": concat(node, outShape, out)
        case "groupnorm": groupnorm(node, inShape, out)
        case "upsample":
            if word(node, "mode") == "bilinear" { upsampleBilinear(input(node), inShape, outShape, out) } else { upsampleNearest(input(node), inShape, outShape, out) }
        default:
            throw RuntimeError("the interpreter does not run '\(node.op)' yet", notes: ["at \(node.loc.description)"])
        }
    }

    /// A result built in an array, copied into the step's buffer.
    func store(_ y: [Float], _ out: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count == out.count, "a step produced \(y.count) values for a buffer of \(out.count)")
        _ = y.withUnsafeBufferPointer { memcpy(out.baseAddress!, $0.baseAddress!, $0.count * 4) }
    }

    /// add / mul of the running tensor and earlier ones, broadcasting size-1 dimensions as PyTorch does.
    func combine(_ node: Graph.Node, _ outShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) throws {
        let isAdd = node.op == "add"
        let shapes = node.inputs.map(shape)
        if shapes[0] == outShape { _ = inPlace(node, out) } else { broadcast(input(node), shapes[0], outShape, out, isAdd: nil) }
        for k in 1..<node.inputs.count {
            let other = input(node, k)
            if shapes[k] == outShape {
                if isAdd { for i in 0..<out.count { out[i] += other[i] } } else { for i in 0..<out.count { out[i] *= other[i] } }
            } else {
                broadcast(other, shapes[k], outShape, out, isAdd: isAdd)
            }
        }
    }

    /// out = x broadcast to `outShape` (isAdd nil), or out += / *= it.
    func broadcast(_ x: UnsafeBufferPointer<Float>, _ xShape: [Int], _ outShape: [Int], _ out: UnsafeMutableBufferPointer<Float>, isAdd: Bool?) {
        let r = outShape.count
        var strides = [Int](repeating: 0, count: r)
        var s = 1
        for i in stride(from: r - 1, through: 0, by: -1) {
            strides[i] = xShape[i] == 1 ? 0 : s
            s *= xShape[i]
        }
        var idx = [Int](repeating: 0, count: r)
        for o in 0..<out.count {
            var src = 0
            for k in 0..<r { src += idx[k] * strides[k] }
            switch isAdd {
            case nil: out[o] = x[src]
            case true?: out[o] += x[src]
            case false?: out[o] *= x[src]
            }
            var k = r - 1
            while k >= 0 { idx[k] += 1; if idx[k] < outShape[k] { break }; idx[k] = 0; k -= 1 }
        }
    }

    /// The class token, the last token or the mean over tokens.
    func take(_ node: Graph.Node, _ inShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) {
        let x = input(node)
        let b = inShape[0], d = inShape.last!, n = inShape.dropFirst().dropLast().reduce(1, *)
        for i in 0..<b {
            switch word(node, "which") {
            case "mean":
                for j in 0..<d { out[i * d + j] = 0 }
                for t in 0..<n { for j in 0..<d { out[i * d + j] += x[(i * n + t) * d + j] } }
                for j in 0..<d { out[i * d + j] /= Float(n) }
            case "last":
                for j in 0..<d { out[i * d + j] = x[(i * n + n - 1) * d + j] }
            default:
                for j in 0..<d { out[i * d + j] = x[i * n * d + j] }
            }
        }
    }

    static func tokenRow(_ id: Float, _ vocab: Int) throws -> Int {
        guard id.isFinite, id >= 0, id < Float(vocab), Float(Int(id)) == id else { throw RuntimeError("token id \(id) is outside the vocabulary of \(vocab)") }
        return Int(id)
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

    static func permute(_ x: UnsafeBufferPointer<Float>, _ shape: [Int], _ perm: [Int], into y: UnsafeMutableBufferPointer<Float>) {
        let r = shape.count
        var strides = [Int](repeating: 1, count: r)
        for i in stride(from: r - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        let outShape = perm.map { shape[$0] }
        var idx = [Int](repeating: 0, count: r)
        for o in 0..<x.count {
            var src = 0
            for k in 0..<r { src += idx[k] * strides[perm[k]] }
            y[o] = x[src]
            var k = r - 1
            while k >= 0 { idx[k] += 1; if idx[k] < outShape[k] { break }; idx[k] = 0; k -= 1 }
        }
    }
}
