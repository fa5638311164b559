/// Text made safe for a terminal, with characters shown as swiftc shows them in a string: control
/// characters other than newline and tab, DEL, the C1 controls and the bidirectional overrides
/// become `\u{1B}`, so no spec line, tensor name or path in a message can move the cursor, ring the
/// bell, recolour the screen or reorder what is shown (nor hide in an invisible byte-order mark).
public enum TerminalText {
    /// Whether a character would act on the terminal instead of being shown.
    public static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09, 0x0A: return false
        case 0x00..<0x20, 0x7F..<0xA0: return true
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        case 0xFEFF: return true  // invisible: a byte-order mark inside the text
        default: return false
        }
    }

    /// `\u{1B}`
    public static func escape(_ u: Unicode.Scalar) -> String {
        "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
    }

    /// The text with every unsafe character escaped (unchanged when there is none).
    public static func escaped(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isUnsafe) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for u in s.unicodeScalars {
            if isUnsafe(u) { out += escape(u) } else { out.unicodeScalars.append(u) }
        }
        return out
    }
}
