/// Python names in the emitted module: a spec's names never collide with Python's keywords, the
/// module's own names (torch, nn, F, math, the helpers) or the attributes of nn.Module.
enum TorchNames {
    static let keywords: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
        "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "type", "_",
    ]

    /// The names the emitted file itself defines or imports (and `self`); the helpers' class names.
    static let generated: Set<String> = [
        "self", "torch", "nn", "F", "math", "super", "Model", "Mlp", "SwiGLU", "MoE", "Attention", "SGU", "PatchMerge",
        "_put", "_adopt", "_positions", "_sinusoid", "_act", "int", "float", "bool", "tuple", "range", "len", "print",
    ]

    /// Public attributes of nn.Module and nn.Sequential (torch 2.x), and the helpers' own ones; every
    /// name starting with '_' is taken as theirs too.
    static let moduleAttributes: Set<String> = [
        "T_destination", "add_module", "append", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile",
        "cpu", "cuda", "double", "dump_patches", "eval", "extend", "extra_repr", "float", "forward", "get_buffer",
        "get_extra_state", "get_parameter", "get_submodule", "half", "insert", "ipu", "load_state_dict", "modules", "mtia",
        "named_buffers", "named_children", "named_modules", "named_parameters", "parameters", "pop", "register_backward_hook",
        "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
        "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
        "register_module", "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
        "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train",
        "training", "type", "xpu", "zero_grad", "reset_parameters",
    ]

    /// Python's capitalised builtins a class of the file must not hide (the helpers raise ValueError).
    static let builtins: Set<String> = ["Ellipsis", "NotImplemented", "BaseException", "Exception", "StopIteration",
                                        "StopAsyncIteration", "GeneratorExit", "KeyboardInterrupt", "SystemExit"]

    /// A name a class of the file may take.
    static func isClassName(_ s: String) -> Bool {
        isIdentifier(s) && !s.hasPrefix("_") && !keywords.contains(s) && !generated.contains(s) && !builtins.contains(s)
            && !s.hasSuffix("Error") && !s.hasSuffix("Warning")
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// A name usable as `owner.name` for a child, a parameter or a buffer.
    static func isAttribute(_ s: String) -> Bool {
        isIdentifier(s) && !s.hasPrefix("_") && !keywords.contains(s) && !moduleAttributes.contains(s)
    }

    /// A name usable as a local variable or an argument of forward.
    static func isVariable(_ s: String) -> Bool {
        isIdentifier(s) && !keywords.contains(s) && !generated.contains(s)
    }

    /// A Python string literal.
    static func literal(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out += u.value < 0x20 || u.value == 0x7f ? "\\x" + String(u.value, radix: 16).leftPad(2) : String(u)
            }
        }
        return out + "\""
    }
}

private extension String {
    func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
