import ArchSyntax

extension Elaborator {
    /// A place the code being elaborated was expanded from: a block's use or a repetition. Each
    /// becomes an "in block ... used at ..." note on what is reported inside it.
    struct Site {
        var note: String
        /// The op name on the using line.
        var loc: SourceLoc
        /// The block used there, if it is a block's use.
        var block: String?
        /// Where each of the block's parameters was given on the using line (known once bound).
        var arguments: [String: SourceLoc] = [:]
        /// Off while the use itself is checked (its arguments, recursion): the note would only repeat the caret.
        var showsNote = true
    }

    func report(_ d: Diagnostic) {
        guard !d.message.isEmpty else { return }  // an EvalError for something already reported
        var d = d
        var sites = trace
        if let at = d.loc, at.file === Prelude.file, let i = sites.lastIndex(where: { $0.loc.file !== Prelude.file }) {
            d = pointedAtUser(d, use: sites[i])
            sites[i].showsNote = false
        }
        d.notes += sites.reversed().filter(\.showsNote).map { Diagnostic.Note($0.note) }
        diags.emit(d)
    }

    /// A problem inside a prelude block is the user's line that uses the block: the caret goes to the
    /// argument the prelude's text names (`heads` -> the `12` given for it) or else to the block's name
    /// there, and the prelude's own line becomes a note. The user never wrote the prelude's text.
    func pointedAtUser(_ d: Diagnostic, use: Site) -> Diagnostic {
        guard let at = d.loc else { return d }
        var out = d
        let word = at.file.text(at.range)
        out.loc = use.arguments[word] ?? use.loc
        out.notes.removeAll { $0.loc == out.loc }  // "for the use here": the caret is there now
        let block = use.block.map { "block '\($0)'" } ?? "a block"
        out.notes.insert(.init("inside \(block) of the prelude (Grammar.md, 3.7)", at: at), at: 0)
        return out
    }

    func error(_ m: String, at loc: SourceLoc?, notes: [Diagnostic.Note] = []) { report(.error(m, at: loc, notes: notes)) }
    func warning(_ m: String, at loc: SourceLoc?, notes: [Diagnostic.Note] = []) { report(.warning(m, at: loc, notes: notes)) }
}

extension Elaborator {
    /// `--set sq=128` for a spec whose sizes are batch and seq is an error naming them (it was
    /// silently accepted). Checked once every input is declared; not when one failed (its names
    /// are not known).
    func checkBindingsAreDeclared(inputsDeclared: Int) {
        guard bindingsMustBeDeclared, inputsDeclared > 0, graph.inputs.count == inputsDeclared else { return }
        let known = ["batch"] + declaredSymbols.keys.sorted()
        for (name, value) in bindings.sorted(by: { $0.key < $1.key }) where name != "batch" && declaredSymbols[name] == nil {
            let declared = declaredSymbols.values.min { $0.start < $1.start }
            error("--set \(name)=\(value): the spec has no size named '\(name)'\(Suggest.didYouMean(name, in: known))", at: nil,
                  notes: [.init("its sizes: " + known.joined(separator: ", ") + (declared == nil ? " (batch is every input's first dimension)" : ""),
                                at: declared)])
        }
    }
}
