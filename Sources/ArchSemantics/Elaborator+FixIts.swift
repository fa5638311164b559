import ArchSyntax

/// Fix-its are checked before they are shown: a suggested line runs through the ops' own rules on
/// the tensor it would receive, and only one that yields the wanted shape is suggested (a residual
/// fix-it once proposed `conv 1 22` where 22 was a spatial size).
extension Elaborator {
    /// The first of the candidate lines that maps `input` to `wanted`, if any does.
    static func checkedFix(_ candidates: [String], from input: TensorType, to wanted: TensorType) -> String? {
        candidates.first { output(of: $0, on: input) == wanted.shape }
    }

    /// The shape the layers written in `text` (`conv 1 128 stride 2; batchnorm`) give for `input`,
    /// or nil if any of them would be an error there.
    static func output(of text: String, on input: TensorType) -> Shape? {
        let quiet = DiagnosticEngine()
        let unit = Parser.parse(SourceFile(path: "<fix-it>", text: text), diags: quiet)
        var current = input
        for s in unit.stmts {
            guard case .layer(let l) = s, l.bodies.isEmpty, l.repeatCount == nil, let op = OpRegistry.op(named: l.op.text) else { return nil }
            let bound = ArgumentBinder(evaluator: Evaluator(env: [:]), report: quiet.emit).bind(l.args, op: op, opLoc: l.op.loc)
            guard bound.ok, !quiet.hasErrors else { return nil }
            var ctx = OpContext(op: op, args: bound.values, argLocs: bound.locs, input: current, refs: [:], tiedCandidates: [],
                                label: nil, tensorBudget: Int.max, tensorLimit: Int.max)
            guard (try? op.rule(&ctx)) != nil else { return nil }
            current = ctx.output
        }
        return quiet.hasErrors ? nil : current.shape
    }

    /// Shortcuts that might map a residual's input to its body's output: a strided 1x1 convolution
    /// and a batchnorm (images, channels first), or a linear layer (features last).
    static func shortcutCandidates(from input: TensorType, to wanted: TensorType) -> [String] {
        var out: [String] = []
        if wanted.rank >= 4, let c = wanted.shape[1].value {
            var stride = 1
            if let a = input.shape[2].value, let b = wanted.shape[2].value, b > 0 { stride = max(1, a / b) }
            out.append("conv 1 \(c) stride \(stride) bias off; batchnorm")
        }
        if let d = wanted.shape.last?.value { out.append("linear \(d)") }
        return out
    }
}
