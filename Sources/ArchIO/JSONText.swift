/// JSON text written by hand (safetensors headers, `archc params --json`): string literals escaped.
public enum JSONText {
    public static func string(_ s: String) -> String {
        let body = s.escaped { u in
            switch u {
            case "\"": "\\\""
            case "\\": "\\\\"
            case "\n": "\\n"
            case "\t": "\\t"
            case _ where u.value < 0x20: "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: nil
            }
        }
        return "\"" + body + "\""
    }
}
