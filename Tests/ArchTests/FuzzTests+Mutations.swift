import Foundation
@testable import ArchSyntax
@testable import ArchSemantics

/// The mutations of the fuzz test, and a generator of layer lines for every op of the closed set.
extension FuzzTests {
    static let numbers = ["0", "-1", "-7", "1", "2", "3", "7", "16", "64", "99999999999", "2147483647", "2147483648", "4294967296",
                          "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999", "1_000",
                          "1e-6", "0.5", "-0.5", "1e308", "1e999", "0x0", "1x0", "2147483647x2147483647", "99999999999x3", "3xHxW", "7x7x7"]
    static let repeats = ["x0", "x1", "x2", "x3", "x2147483647", "x99999999999", "x99999999999999999999", "x1000001", "x00"]
    static let words = ["{", "}", "(", ")", "[", "]", ",", ":", ";", "=", "*", "-", "+", "/", "%", "==", "!=", "<", ">=", "and", "or",
                        "model", "input", "block", "if", "else", "residual", "shortcut", "parallel", "seq", "norm", "tokens",
                        "x2", "tied", "from", "memory", "heads", "window", "groups", "depthwise", "same", "on", "off", "index",
                        "dim", "channels", "last", "bidirectional", "ceil", "keep", "grid", "causal", "relpos", "a:", "0:", "n*:", "l{index}:",
                        "branch b {", "branch b from a {", "order", "param [4]", "init ones", "name g", "start", "end", "step", "at",
                        "kvheads", "rope", "half", "mask", "names", "queries",
                        "#", "stem.proj", "conv", "linear", "attention", "lstm", "moe", "flatten", "permute 0 2 3 1", "reshape -1"]
    static let badBytes: [[UInt8]] = [[0x00], [0xFF], [0xFE], [0xC0], [0x80], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80],
                                      [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF], [0x09], [0x0D], [0x0A], [0x7F]]

    /// A value for an argument of the given kind: usually a fitting one, sometimes an edge case or a wrong kind.
    static func value(_ kind: ArgKind, _ rng: inout Random, labels: [String]) -> String {
        if rng.chance(15) { return rng.pick(numbers + ["on", "off", "same", "tokens", "[seq, 8]", "(2 + 3) * 4", "seq"]) }
        switch kind {
        case .int, .intOrChoice: return rng.pick(["1", "2", "3", "4", "8", "16", "-1", "0", "2147483647"])
        case .size, .sizeOrChoice, .padding: return rng.pick(["1", "2", "3", "7", "3x3", "2x1", "0", "16", "1x2x3"])
        case .float: return rng.pick(["0.1", "0.5", "1e-6", "0", "1"])
        case .bool, .flag: return rng.pick(["on", "off"])
        case .choice(let ws): return rng.pick(ws)
        case .ref: return labels.isEmpty ? "x" : rng.pick(labels)
        case .ints: return rng.pick(["0 2 1", "0 2 3 1", "0 1", "1 0", "0 3 1 2"])
        case .shape: return rng.pick(["[-1, 8]", "4x4", "[seq, 8]", "-1", "2x-1", "[8]", "[batch * 2, -1]", "[1, 1, 8]"])
        case .operand: return labels.isEmpty || rng.chance(40) ? rng.pick(["1", "0.5", "-2", "0"]) : rng.pick(labels)
        case .name: return rng.pick(["gamma", "alpha", "a.b", "weight"])
        case .initializer: return rng.pick(["zeros", "ones", "normal 0.02", "uniform 1", "value 1e-6", "normal", "value -1"])
        case .axes: return rng.pick(["1", "-1", "1 2", "0", "2 3", "9"])
        case .names: return rng.pick(["q k v o", "q_proj k_proj v_proj o_proj", "qkv proj", "q kv proj", "a.b a", "gate up down", "x", "q q o"])
        }
    }

    /// `op args... options...` for an op of the closed set, sometimes labelled, repeated or with a body.
    static func generatedLayer(_ rng: inout Random, labels: [String]) -> String {
        let op = rng.pick(OpRegistry.all)
        var parts = rng.chance(20) ? ["g\(rng.below(3)):", op.name] : [op.name]
        for a in op.positional where rng.chance(90) { parts.append(value(a.kind, &rng, labels: labels)) }
        for _ in 0..<rng.below(3) where !op.options.isEmpty {
            let o = rng.pick(op.options)
            parts.append(o.name)
            if case .flag = o.kind, rng.chance(50) { continue }
            parts.append(value(o.kind, &rng, labels: labels))
        }
        if rng.chance(10) { parts.append(rng.pick(["x2", "x3", "x0"])) }
        if op.body != .none || rng.chance(5) { parts.append(rng.pick(["{ relu }", "{ linear 8 }", "{ }", "{ identity; identity } shortcut { }"])) }
        return parts.joined(separator: " ")
    }

    /// The tokens of a text (newlines and the end excluded), found by the compiler's own lexer.
    static func tokens(_ b: [UInt8]) -> [Token] {
        Lexer.tokenize(SourceFile(path: "", bytes: b), diags: DiagnosticEngine()).filter { $0.kind != .newline && $0.kind != .eof }
    }

    static func lines(_ b: [UInt8]) -> [[UInt8]] { b.split(separator: 10, omittingEmptySubsequences: false).map(Array.init) }
    static func joined(_ ls: [[UInt8]]) -> [UInt8] { Array(ls.joined(separator: [10])) }

    /// Applies one random mutation.
    static func mutate(_ bytes: [UInt8], _ rng: inout Random, library: [[UInt8]]) -> [UInt8] {
        var b = bytes
        if b.isEmpty { return rng.pick([[0x7B], [0x0A], [0xFF], Array("input x 8".utf8)]) }
        lazy var toks = tokens(b)  // lexing costs; only the token-level mutations pay for it
        let at = rng.below(b.count + 1)
        switch rng.below(16) {
        case 0 where toks.count > 1:  // swap two tokens
            let x = rng.pick(toks).range, y = rng.pick(toks).range
            let (lo, hi) = x.lowerBound < y.lowerBound ? (x, y) : (y, x)
            if lo.upperBound <= hi.lowerBound {
                let a = Array(b[lo]), c = Array(b[hi])
                b.replaceSubrange(hi, with: a)
                b.replaceSubrange(lo, with: c)
            }
        case 1 where !toks.isEmpty:  // delete a token
            b.removeSubrange(rng.pick(toks).range)
        case 2 where !toks.isEmpty:  // duplicate a token
            let r = rng.pick(toks).range
            b.insert(contentsOf: Array(b[r]) + [32], at: r.lowerBound)
        case 3, 4:  // an edge-case number in place of a number (or of any token)
            let numeric = toks.filter { [.int, .float, .dims, .repeat_].contains($0.kind) }
            if let t = numeric.isEmpty ? toks.first : rng.pick(numeric) {
                b.replaceSubrange(t.range, with: Array((t.kind == .repeat_ ? rng.pick(repeats) : rng.pick(numbers)).utf8))
            }
        case 5:  // truncate at a random byte (possibly inside a UTF-8 sequence)
            b = Array(b.prefix(rng.below(b.count)))
        case 6:  // insert random bytes: invalid UTF-8, NUL, control characters, anything
            for _ in 0...rng.below(3) {
                let bad = rng.chance(50) ? rng.pick(badBytes) : [UInt8(truncatingIfNeeded: rng.next())]
                b.insert(contentsOf: bad, at: rng.below(b.count + 1))
            }
        case 7:  // duplicate or delete a line
            var ls = lines(b)
            let k = rng.below(ls.count)
            if rng.chance(60) { ls.insert(ls[k], at: k) } else { ls.remove(at: k) }
            b = joined(ls)
        case 8:  // delete a brace
            let braces = toks.filter { $0.kind == .lbrace || $0.kind == .rbrace }
            if let t = braces.isEmpty ? nil : rng.pick(braces) { b.removeSubrange(t.range) }
        case 9:  // insert a brace
            b.insert(contentsOf: Array(rng.pick([" {", " }", "{\n", "\n}", " { }", "}}", "{{"]).utf8), at: at)
        case 10:  // swap a line with one of another spec, or splice one in
            var ls = lines(b)
            let other = lines(rng.pick(library)).filter { !$0.isEmpty }
            if !other.isEmpty {
                let k = rng.below(ls.count)
                if rng.chance(50) { ls[k] = rng.pick(other) } else { ls.insert(rng.pick(other), at: k) }
            }
            b = joined(ls)
        case 11:  // a keyword, an option or punctuation at a token boundary
            let pos = toks.isEmpty ? 0 : (rng.chance(50) ? rng.pick(toks).range.lowerBound : rng.pick(toks).range.upperBound)
            b.insert(contentsOf: Array((" " + rng.pick(words) + " ").utf8), at: pos)
        case 12:  // cut the file to a slice of its lines
            let ls = lines(b)
            let s = rng.below(ls.count), n = 1 + rng.below(8)
            b = joined(Array(ls[s..<min(ls.count, s + n)]))
        case 13, 14:  // a generated layer line: any op with random arguments and options
            var ls = lines(b)
            let labels = toks.filter { $0.kind == .name }.map { String(decoding: b[$0.range], as: UTF8.self) }
            ls.insert(Array(generatedLayer(&rng, labels: labels).utf8), at: rng.below(ls.count + 1))
            b = joined(ls)
        default:  // flip a bit
            let k = rng.below(b.count)
            b[k] ^= UInt8(truncatingIfNeeded: 1 << rng.below(8))
        }
        return b
    }
}
