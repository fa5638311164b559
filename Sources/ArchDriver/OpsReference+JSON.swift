import ArchSemantics

/// `archc ops --json`: the op reference as data. The schema (one object, `{"ops": [...]}`):
///
///     {"name": "conv", "aliases": ["conv1d", "conv2d"], "summary": "...", "signature": "conv KERNEL OUT",
///      "body": "none" | "sequence" | "residual" | "parallel",
///      "arguments": [{"name": "kernel", "positional": true, "required": true, "kind": "size",
///                     "kind_doc": "a size such as 3 or 3x3", "default": null, "doc": "", ...}],
///      "shape": "...", "params": "...", "macs": "..."}
///
/// An argument's `kind` is one of int, size, padding, float, bool, flag, choice, int_or_choice,
/// size_or_choice, ref, ints, shape, operand, name,
/// initializer, axes; `min`, `max` and `choices` are given where the kind has them.
/// `default` is the value's JSON (a number, true/false, a word as a string, a list) or null.
extension OpsReference {
    static func json(_ ops: [OpSpec]) -> String {
        "{\"ops\": [\n" + ops.map { "  " + json($0) }.joined(separator: ",\n") + "\n]}\n"
    }

    static func json(_ op: OpSpec) -> String {
        let aliases = OpRegistry.aliases.filter { $0.value == op.name }.keys.sorted()
        let args = op.positional.map { json($0, positional: true) } + op.options.map { json($0, positional: false) }
        let fields = [
            "\"name\": \(Format.json(op.name))",
            "\"aliases\": [\(aliases.map(Format.json).joined(separator: ", "))]",
            "\"summary\": \(Format.json(op.summary))",
            "\"signature\": \(Format.json(signature(op)))",
            "\"body\": \(Format.json("\(op.body)"))",
            "\"arguments\": [\(args.joined(separator: ", "))]",
            "\"shape\": \(Format.json(op.shapeDoc))",
            "\"params\": \(Format.json(op.paramDoc))",
            "\"macs\": \(Format.json(op.macDoc))",
        ]
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func json(_ a: ArgSpec, positional: Bool) -> String {
        var fields = [
            "\"name\": \(Format.json(a.name))",
            "\"positional\": \(positional)",
            "\"required\": \(positional && a.isRequired)",
        ]
        fields += kindFields(a.kind)
        fields += [
            "\"kind_doc\": \(Format.json(a.kind.describe))",
            "\"default\": \(a.defaultValue.map(json) ?? "null")",
            "\"doc\": \(Format.json(a.doc))",
        ]
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// `"kind": "choice", "choices": [...]`, with the bounds a kind has.
    static func kindFields(_ k: ArgKind) -> [String] {
        func words(_ ws: [String]) -> String { "\"choices\": [\(ws.map(Format.json).joined(separator: ", "))]" }
        switch k {
        case .int(let m): return ["\"kind\": \"int\""] + (m > Int.min / 2 ? ["\"min\": \(m)"] : [])
        case .size: return ["\"kind\": \"size\"", "\"min\": 1"]
        case .padding: return ["\"kind\": \"padding\"", "\"min\": 0"]
        case .float(let lo, let hi): return ["\"kind\": \"float\"", "\"min\": \(number(lo))", "\"max\": \(number(hi))"]
        case .bool: return ["\"kind\": \"bool\""]
        case .flag: return ["\"kind\": \"flag\""]
        case .choice(let ws): return ["\"kind\": \"choice\"", words(ws)]
        case .intOrChoice(let m, let ws): return ["\"kind\": \"int_or_choice\"", "\"min\": \(m)", words(ws)]
        case .sizeOrChoice(let ws): return ["\"kind\": \"size_or_choice\"", words(ws)]
        case .ref: return ["\"kind\": \"ref\""]
        case .ints: return ["\"kind\": \"ints\""]
        case .shape: return ["\"kind\": \"shape\""]
        case .names: return ["\"kind\": \"names\""]
        case .operand: return ["\"kind\": \"operand\""]
        case .name: return ["\"kind\": \"name\""]
        case .initializer: return ["\"kind\": \"initializer\"", words(["zeros", "ones", "normal", "uniform", "value"])]
        case .axes: return ["\"kind\": \"axes\""]
        }
    }

    static func json(_ v: Value) -> String {
        switch v {
        case .int(let n): return String(n)
        case .float(let x): return number(x)
        case .bool(let b): return b ? "true" : "false"
        case .word(let w): return Format.json(w)
        case .dim(let d): return Format.json(d.description)
        case .list(let vs): return "[" + vs.map(json).joined(separator: ", ") + "]"
        }
    }

    /// A JSON number (infinite bounds as null: JSON has no infinity).
    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
