extension String {
    /// This text with each Unicode scalar that `replacement` maps to a string written as that
    /// string and the others kept: the one loop behind the escaping of every output format (JSON,
    /// XML, DOT, Mermaid, YAML, Swift source), each of which is only its table.
    public func escaped(_ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for u in unicodeScalars {
            if let text = replacement(u) { out += text } else { out.unicodeScalars.append(u) }
        }
        return out
    }
}

extension Unicode.Scalar {
    /// A C0 control character or DEL: what no label of a picture or a YAML string should hold raw.
    public var isControl: Bool { value < 0x20 || value == 0x7F }
}
