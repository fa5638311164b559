/// A message about the source: an error, a warning, or a note attached to either.
public struct Diagnostic: Sendable {
    public enum Severity: String, Sendable { case error, warning, note }
    public var severity: Severity
    public var message: String
    public var loc: SourceLoc?
    /// Follow-up lines: fix hints, where a value came from, block instantiation sites.
    public var notes: [Note]

    public struct Note: Sendable {
        public var message: String
        public var loc: SourceLoc?
        public init(_ message: String, at loc: SourceLoc? = nil) {
            self.message = message
            self.loc = loc
        }
    }

    public init(_ severity: Severity, _ message: String, at loc: SourceLoc?, notes: [Note] = []) {
        self.severity = severity
        self.message = message
        self.loc = loc
        self.notes = notes
    }

    public static func error(_ m: String, at loc: SourceLoc?, notes: [Note] = []) -> Diagnostic {
        Diagnostic(.error, m, at: loc, notes: notes)
    }
    public static func warning(_ m: String, at loc: SourceLoc?, notes: [Note] = []) -> Diagnostic {
        Diagnostic(.warning, m, at: loc, notes: notes)
    }
}

/// Collects diagnostics; phases keep going after an error so one run reports them all.
public final class DiagnosticEngine: @unchecked Sendable {
    public private(set) var diagnostics: [Diagnostic] = []
    /// Past this many errors the rest are dropped (a single note says so).
    public let errorLimit: Int
    public private(set) var droppedErrors = 0
    public private(set) var droppedWarnings = 0
    private var seen: Set<String> = []

    public init(errorLimit: Int = 200) { self.errorLimit = errorLimit }

    public private(set) var errorCount = 0
    public var hasErrors: Bool { errorCount > 0 }

    public func emit(_ d: Diagnostic) {
        if d.severity == .error && errorCount >= errorLimit {
            droppedErrors += 1
            return
        }
        if d.severity == .warning && diagnostics.count - errorCount >= errorLimit {
            droppedWarnings += 1
            return
        }
        // The same message at the same place once only (a repeated block reports once per site).
        let key = "\(d.severity)|\(d.loc.map { "\(ObjectIdentifier($0.file).hashValue):\($0.start)" } ?? "-")|\(d.message)"
        if !seen.insert(key).inserted { return }
        diagnostics.append(d)
        if d.severity == .error { errorCount += 1 }
    }

    /// Orders diagnostics by where they point (file order), keeping discovery order for equal places;
    /// those without a place go last. Parse and semantic errors then read top to bottom.
    public func sortBySourceOrder() {
        diagnostics = diagnostics.enumerated().sorted { a, b in
            let ka = a.element.loc.map { $0.start } ?? Int.max, kb = b.element.loc.map { $0.start } ?? Int.max
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    public func error(_ m: String, at loc: SourceLoc?, notes: [Diagnostic.Note] = []) {
        emit(.error(m, at: loc, notes: notes))
    }
    public func warning(_ m: String, at loc: SourceLoc?, notes: [Diagnostic.Note] = []) {
        emit(.warning(m, at: loc, notes: notes))
    }
}
