import ArchSemantics

/// A node's arguments, read with their defaults already filled in by the binder. Only lowering
/// (and the ONNX export, which reads the checked graph) reads them: every later stage sees typed
/// kernel calls.
extension Graph.Node {
    public func int(_ name: String) -> Int? {
        if case .int(let n)? = args[name] { return n }
        return nil
    }
    public func word(_ name: String) -> String? {
        if case .word(let w)? = args[name] { return w }
        return nil
    }
    public func bool(_ name: String) -> Bool {
        if case .bool(let b)? = args[name] { return b }
        return false
    }
    public func float(_ name: String) -> Float? {
        switch args[name] {
        case .float(let x)?: return Float(x)
        case .int(let n)?: return Float(n)
        default: return nil
        }
    }
    /// A size argument spread over `n` spatial dimensions (`3` -> [3, 3]).
    public func sizes(_ name: String, _ n: Int, default d: Int) -> [Int] {
        switch args[name] {
        case .int(let v)?: return Array(repeating: v, count: n)
        case .list(let vs)?:
            let ints = vs.compactMap { if case .int(let x) = $0 { return x } else { return nil } }
            return ints.count == 1 ? Array(repeating: ints[0], count: n) : ints
        default: return Array(repeating: d, count: n)
        }
    }
    /// A dimension argument, negative counting from the end.
    public func axis(_ name: String, rank: Int, default d: Int) -> Int {
        let a = int(name) ?? d
        return a < 0 ? a + rank : a
    }
}
