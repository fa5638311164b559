import ArchSemantics
import ArchIR

/// Every op of the language, as ONNX ops. The switch is exhaustive (no `default`): a new op makes
/// the compiler list this place, next to lowering and the emitters.
extension Exporter {
    mutating func export(_ n: Graph.Node) throws {
        try checkArguments(n)
        switch n.op {
        case .linear: try linearLayer(n)
        case .embed: try embed(n)
        case .mlp: try mlp(n)
        case .swiglu: try swiglu(try input(n), names: try swigluNames(n), into: out)
        case .moe: try moe(n)
        case .conv: try conv(n)
        case .convt: try convTranspose(n)
        case .patch: try patch(n)
        case .maxpool, .avgpool: try pool(n)
        case .adaptive_avgpool, .adaptive_maxpool: try adaptivePool(n)
        case .globalpool: try globalPool(n)
        case .upsample: try upsample(n)
        case .batchnorm: try batchnorm(n)
        case .layernorm: try layernorm(n)
        case .rmsnorm: try rmsnorm(n)
        case .groupnorm: try groupnorm(n)
        case .relu: activation(.relu, try input(n), into: out)
        case .relu6: activation(.relu6, try input(n), into: out)
        case .gelu: activation(n.word("approx") == "tanh" ? .geluTanh : .gelu, try input(n), into: out)
        case .silu: activation(.silu, try input(n), into: out)
        case .sigmoid: activation(.sigmoid, try input(n), into: out)
        case .tanh: activation(.tanh, try input(n), into: out)
        case .hardswish: activation(.hardswish, try input(n), into: out)
        case .softmax: try softmax(n)
        case .identity: _ = b.op("Identity", [try input(n)], out: out)
        case .dropout: try dropout(n)
        case .flatten, .reshape, .view: try reshapeLayer(n)
        case .transpose, .permute: try permute(n)
        case .pos: try positions(n)
        case .cls: try classToken(n)
        case .take: try take(n)
        case .attention: try n.args["window"] == nil ? attention(n) : windowAttention(n)
        case .sgu: try spatialGating(n)
        case .patchmerge: try patchMerge(n)
        case .rnn, .lstm, .gru: try recurrent(n)
        case .sum: try reduction(n, "ReduceSum")
        case .mean: try reduction(n, "ReduceMean")
        case .max: try reduction(n, "ReduceMax")
        case .slice: try slice(n)
        case .index: try index(n)
        case .unfold: try unfold(n)
        case .fold: try fold(n)
        case .add: try arithmetic(n, "Add")
        case .sub: try arithmetic(n, "Sub")
        case .mul: try arithmetic(n, "Mul")
        case .div: try arithmetic(n, "Div")
        case .rsub: try arithmetic(n, "Sub", reversed: true)
        case .concat: try concat(n)
        case .seq, .residual, .parallel:
            throw ExportError("internal error: a '\(n.op)' node reached the export", notes: ["this is a bug in archc; please report it with the spec"])
        }
    }

    /// The arguments each op's export reads. An argument the op gained later (and the export does
    /// not know) is an error rather than silently ignored; a test keeps this list in step with the
    /// ops' signatures.
    static func handledArguments(_ op: OpKind) -> Set<String> {
        switch op {
        case .linear: return ["out", "bias", "tied", "weights"]
        case .embed: return ["vocab", "dim", "from"]
        case .mlp: return ["hidden", "out", "act", "bias", "names", "weights"]
        case .swiglu: return ["hidden", "out", "bias", "names"]
        case .moe: return ["experts", "top", "hidden", "expert"]
        case .conv: return ["kernel", "out", "stride", "pad", "dilation", "groups", "bias"]
        case .convt: return ["kernel", "out", "stride", "pad", "outpad", "dilation", "groups", "bias"]
        case .maxpool, .avgpool: return ["kernel", "stride", "pad", "ceil"]
        case .adaptive_avgpool, .adaptive_maxpool: return ["size"]
        case .globalpool: return ["mode", "keep"]
        case .upsample: return ["scale", "mode"]
        case .patch: return ["size", "dim", "grid", "bias"]
        case .batchnorm: return ["eps", "momentum", "affine"]
        case .layernorm: return ["eps", "bias", "affine", "dim"]
        case .rmsnorm: return ["eps", "dim"]
        case .groupnorm: return ["groups", "eps"]
        case .relu, .relu6, .silu, .sigmoid, .tanh, .hardswish, .identity: return []
        case .gelu: return ["approx"]
        case .softmax: return ["dim"]
        case .dropout: return ["p"]
        case .flatten: return ["start", "end"]
        case .reshape: return ["shape"]
        case .transpose: return ["a", "b"]
        case .permute: return ["dims"]
        case .pos: return ["kind", "max"]
        case .cls: return ["what"]
        case .take: return ["which"]
        case .attention: return ["heads", "kvheads", "dim", "out", "bias", "outbias", "causal", "qknorm", "rope", "rope_base", "qkv", "names",
                                 "window", "shift", "relpos", "memory", "queries", "mask", "weights"]
        case .sgu: return ["mode", "eps", "attn", "from"]
        case .patchmerge: return ["eps"]
        case .rnn, .lstm, .gru: return ["hidden", "layers", "bidirectional", "bias", "last"]
        case .sum, .mean, .max: return ["dim", "keep"]
        case .slice: return ["dim", "start", "end", "step"]
        case .index: return ["dim", "at"]
        case .view: return ["shape"]
        case .unfold: return ["kernel", "stride", "pad", "dilation"]
        case .fold: return ["size", "kernel", "stride", "pad", "dilation"]
        case .add, .sub, .mul, .div, .rsub: return ["other", "param", "name", "init"]
        case .concat: return ["other", "dim"]
        case .seq, .residual, .parallel: return ["combine", "dim"]
        }
    }

    func checkArguments(_ n: Graph.Node) throws {
        let known = Self.handledArguments(n.op)
        guard let unknown = n.args.keys.sorted().first(where: { !known.contains($0) }) else { return }
        throw ExportError("archc export onnx does not handle the option '\(unknown)' of \(n.op) (at \(n.loc.description)) yet",
                          notes: ["this is a gap in archc's ONNX export; please report it with the spec"])
    }
}
