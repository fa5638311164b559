import ArchIO

/// Values written as Swift source: the kernel calls and the program's description become literals
/// that the generated program passes to the same kernels the interpreter runs. Written from the
/// values themselves (their stored fields, in declaration order, as the types' initialisers take
/// them), so a new field needs no change here.
enum SwiftLiteral {
    /// The modules whose types a generated program holds under their own names.
    static let modulePrefixes = ["ArchKernels.", "ArchEngine.", "ArchIO."]

    static func of(_ value: Any) -> String {
        switch value {
        case let s as String: return SwiftText.literal(s)
        case let n as Int: return String(n)
        case let b as Bool: return b ? "true" : "false"
        case let x as Float: return x.isFinite ? "\(x)" : x.isNaN ? "Float.nan" : (x < 0 ? "-Float.infinity" : "Float.infinity")
        case let x as Double: return x.isFinite ? "\(x)" : x.isNaN ? "Double.nan" : (x < 0 ? "-Double.infinity" : "Double.infinity")
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { of($0.value) } ?? "nil"
        case .collection:
            return "[" + mirror.children.map { of($0.value) }.joined(separator: ", ") + "]"
        case .enum:
            guard let payload = mirror.children.first else { return ".\(value)" }
            let inner = Mirror(reflecting: payload.value)
            let arguments = inner.displayStyle == .tuple ? arguments(inner) : of(payload.value)
            return ".\(payload.label ?? "")(\(arguments))"
        case .struct:
            return typeName(of: value) + "(" + arguments(mirror) + ")"
        default:
            return "\(value)"
        }
    }

    /// `label: value, ...` for a struct's stored fields or an enum payload's labelled tuple
    /// (positional elements, labelled `.0`, without a label).
    static func arguments(_ mirror: Mirror) -> String {
        mirror.children.map { child in
            let label = child.label ?? ""
            return (label.isEmpty || label.hasPrefix(".") ? "" : label + ": ") + of(child.value)
        }.joined(separator: ", ")
    }

    /// The type's name as the generated program spells it (nested types with their parent).
    static func typeName(of value: Any) -> String {
        var name = String(reflecting: type(of: value))
        for prefix in modulePrefixes where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
        return name
    }
}

/// Text from a spec (names, paths, source lines) made safe to write into Swift source.
public enum SwiftText {
    /// A string literal: quotes and backslashes escaped, and every character outside printable
    /// ASCII as a `\u{...}` escape, so nothing in a name can end the literal or start code.
    static func literal(_ s: String) -> String {
        "\"" + s.escaped { u in
            switch u {
            case "\"": "\\\""
            case "\\": "\\\\"
            case " "..."~": nil
            default: unicodeEscape(u)
            }
        } + "\""
    }

    /// Text for a `//` comment: one line of printable ASCII (anything else shown as `\u{...}`), so
    /// a newline in a name cannot end the comment.
    static func comment(_ s: String) -> String {
        s.escaped { u in (" "..."~").contains(u) ? nil : unicodeEscape(u) }
    }

    static func unicodeEscape(_ u: Unicode.Scalar) -> String { "\\u{\(String(u.value, radix: 16))}" }

    /// A Swift identifier made from a name: letters, digits and underscores, not starting with a
    /// digit, not a keyword; `fallback` when nothing is left.
    public static func identifier(_ s: String, fallback: String) -> String {
        var words: [String] = []
        var current = ""
        for c in s.unicodeScalars {
            if ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) { current.unicodeScalars.append(c) }
            else if !current.isEmpty { words.append(current); current = "" }
        }
        if !current.isEmpty { words.append(current) }
        var name = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if name.isEmpty { return fallback }
        if name.first!.isNumber { name = fallback + name }
        return keywords.contains(name) ? fallback + name : name
    }

    static let keywords: Set = ["Any", "Self", "Type", "Protocol", "Model", "Network", "Tensor", "Frame", "Session", "Executable"]
}
