import ArchSyntax

/// Scopes, layer names and labels. A label whose layer failed is kept as poisoned, so a reference
/// to it is silent: the failure was reported once, where it happened (as swiftc does with an
/// invalid declaration).
extension Elaborator {
    /// The name a layer takes in the current scope: its label, or its position (as in nn.Sequential).
    func nextName(label: Identifier?) -> String {
        let i = scopes[scopes.count - 1].counter
        scopes[scopes.count - 1].counter += 1
        return label?.text ?? String(i)
    }

    var currentPath: [String] { scopes.last!.path }

    /// A label, innermost scope first; `enc.kv` is the member `kv` of the group or block labelled
    /// `enc` (members are labels and positions: `layer1.0.conv1`). A label with dots in it
    /// (`stem.proj: ...`) is found as written first.
    func lookupLabel(_ name: String) -> LabelInfo? {
        for s in scopes.reversed() { if let l = s.labels[name] { return l } }
        guard name.contains(".") else { return nil }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for cut in stride(from: parts.count - 1, through: 1, by: -1) {
            guard var info = lookupLabel(parts[..<cut].joined(separator: ".")) else { continue }
            var found = true
            for p in parts[cut...] {
                guard let m = info.members[p] else { found = false; break }
                info = m
            }
            if found { return info }
        }
        return nil
    }

    /// For an unknown dotted reference whose first part is a group or block: the full names of that
    /// group's members (for did-you-mean) and a note listing them.
    func members(near name: String) -> (names: [String], note: Diagnostic.Note)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return nil }
        for cut in stride(from: parts.count - 1, through: 1, by: -1) {
            let prefix = parts[..<cut].joined(separator: ".")
            guard let info = lookupLabel(prefix) else { continue }
            // Labels by name, then positions in order.
            let names = info.members.keys.sorted { a, b in
                switch (Int(a), Int(b)) {
                case (nil, nil): return a < b
                case (let x?, let y?): return x < y
                case (nil, _): return true
                case (_, nil): return false
                }
            }
            if names.isEmpty { return ([], .init("'\(prefix)' is a single layer: it has no members to reach with '.'")) }
            return (names.map { prefix + "." + $0 }, .init("'\(prefix)' has: " + names.prefix(12).joined(separator: ", ") + (names.count > 12 ? ", ..." : "")))
        }
        return nil
    }

    /// The tensor a reference names, or nil once the problem is reported (or follows from an earlier one).
    func resolveReference(_ name: String, at loc: SourceLoc?) -> LabelInfo? {
        if let info = lookupLabel(name) { return info }
        if let loc, referenceFollowsAnError(name, at: loc) { return nil }
        let near = members(near: name)
        error("no earlier layer or input is labelled '\(name)'\(Suggest.didYouMean(name, in: near?.names ?? allLabels))", at: loc,
              notes: [near?.note ?? .init("label a layer by writing 'NAME:' before it")])
        return nil
    }

    func recordLabel(_ label: Identifier?, value: Int?, nodes: Range<Int>) {
        guard let label, let value else { return }
        scopes[scopes.count - 1].labels[label.text] = LabelInfo(value: value, nodes: nodes, loc: label.loc)
    }

    var allLabels: [String] { scopes.flatMap { $0.labels.keys } }

    /// After a layer line: if it is labelled but its label was not recorded (the layer failed), the
    /// label is poisoned. `name_*` labels poison each repetition's name.
    func poisonLabelIfFailed(_ l: LayerStmt) {
        guard let label = l.label?.text else { return }
        let names = label.hasSuffix("*") ? (0..<min(l.repeatCount?.count ?? 1, 4096)).map { String(label.dropLast()) + String($0) } : [label]
        for n in names where scopes[scopes.count - 1].labels[n] == nil {
            scopes[scopes.count - 1].poisoned.insert(n)
        }
    }

    /// Whether a reference to `name` (at `loc`) follows from an earlier error: its layer failed, or
    /// (once something is wrong) the file writes `name:` before it on a line the parser could not read.
    func referenceFollowsAnError(_ name: String, at loc: SourceLoc) -> Bool {
        if scopes.contains(where: { $0.poisoned.contains(name) }) { return true }
        if failedLabelPrefixes.contains(where: { name.hasPrefix($0) }) { return true }
        return diags.hasErrors && Self.labelIsWritten(name, in: loc.file, before: loc.start)
    }

    /// Whether `name:` stands at the start of a statement in the file's text before `end`.
    static func labelIsWritten(_ name: String, in file: SourceFile, before end: Int) -> Bool {
        let bytes = file.bytes[..<min(end, file.bytes.count)], word = Array(name.utf8)
        guard !word.isEmpty, bytes.count >= word.count else { return false }
        var i = 0
        while i + word.count <= bytes.count {
            defer { i += 1 }
            guard bytes[i..<(i + word.count)].elementsEqual(word) else { continue }
            let before = i == 0 ? UInt8(ascii: "\n") : bytes[i - 1]
            guard " \t\n;{".utf8.contains(before) else { continue }
            var j = i + word.count
            while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
            if j < bytes.count, bytes[j] == UInt8(ascii: ":") { return true }
        }
        return false
    }
}

extension Elaborator {
    /// Evaluates expressions in the current block's environment.
    var evaluator: Evaluator { Evaluator(env: env, unknown: unknownNames) }
}
