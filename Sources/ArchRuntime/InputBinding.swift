import ArchSemantics
import ArchIO

/// Binds a spec's symbolic sizes (batch, seq, ...) from the shapes of the input tensors given to it.
public enum InputBinding {
    public static func bindings(for graph: Graph, inputs: [String: Tensor], base: [String: Int] = [:]) throws -> [String: Int] {
        var bindings = base
        for (name, v) in graph.inputs {
            guard let t = inputs[name] else { throw RuntimeError("no data for input '\(name)'; pass --input \(name)=FILE.npy") }
            let declared = graph.values[v].shape
            guard t.shape.count == declared.count else {
                throw RuntimeError("input '\(name)' has shape \(t.shape) but the spec declares \(describe(declared))")
            }
            for (d, n) in zip(declared, t.shape) where !d.isKnown {
                if d.terms.count == 1, d.constant == 0, let (sym, coef) = d.terms.first, coef == 1 {
                    guard n >= 1 else { throw RuntimeError("input '\(name)' gives \(sym) the size \(n); sizes must be positive") }
                    if let already = bindings[sym], already != n {
                        throw RuntimeError("input '\(name)' gives \(sym) = \(n), but it is already \(already)")
                    }
                    bindings[sym] = n
                }
            }
        }
        return bindings
    }
}
