import ArchSemantics

/// A node's arguments, read with their defaults already applied by the checker.
extension Interpreter {
    func int(_ node: Graph.Node, _ name: String) -> Int? {
        if case .int(let n)? = node.args[name] { return n }
        return nil
    }
    func word(_ node: Graph.Node, _ name: String) -> String? {
        if case .word(let w)? = node.args[name] { return w }
        return nil
    }
    func bool(_ node: Graph.Node, _ name: String) -> Bool {
        if case .bool(let b)? = node.args[name] { return b }
        return false
    }
    func float(_ node: Graph.Node, _ name: String) -> Float? {
        switch node.args[name] {
        case .float(let x)?: return Float(x)
        case .int(let n)?: return Float(n)
        default: return nil
        }
    }
    func sizes(_ node: Graph.Node, _ name: String, _ n: Int, default d: Int) -> [Int] {
        switch node.args[name] {
        case .int(let v)?: return Array(repeating: v, count: n)
        case .list(let vs)?:
            let ints = vs.compactMap { if case .int(let x) = $0 { return x } else { return nil } }
            return ints.count == 1 ? Array(repeating: ints[0], count: n) : ints
        default: return Array(repeating: d, count: n)
        }
    }
}
