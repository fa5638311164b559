import ArchSyntax

/// How every command prints a compilation's diagnostics: each rendered, a note for those dropped
/// past the limit, and `N errors generated.` when there are errors (as `check` always did; `params`
/// and the others left it out).
extension Driver {
    static func diagnosticsText(_ c: Compilation) -> String {
        diagnosticsText(c.diagnostics) + errorsGenerated(c.diagnostics.errorCount + c.diagnostics.droppedErrors)
    }

    /// The diagnostics without the closing count (`check` counts every file's together).
    static func diagnosticsText(_ d: DiagnosticEngine) -> String {
        DiagnosticRenderer.render(d.diagnostics) + (d.droppedErrors > 0 ? "note: \(d.droppedErrors) more errors not shown\n" : "")
    }

    /// `2 errors generated.`, or nothing without errors.
    static func errorsGenerated(_ errors: Int) -> String {
        errors > 0 ? "\(errors) error\(errors == 1 ? "" : "s") generated.\n" : ""
    }
}
