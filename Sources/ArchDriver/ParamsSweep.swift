import ArchSyntax
import ArchSemantics

/// `archc params FILE --set batch=1,8,32 [--set seq=128,512]`: one row per combination of values.
extension Driver {
    /// The lists of a sweep, in the order given.
    struct Sweep {
        var names: [String]
        var values: [[Int]]
        /// Every combination, the first list varying slowest: [[("batch", 1), ("seq", 128)], ...].
        var rows: [[(name: String, value: Int)]] {
            var rows: [[(name: String, value: Int)]] = [[]]
            for (name, list) in zip(names, values) {
                rows = rows.flatMap { row in list.map { row + [(name, $0)] } }
            }
            return rows
        }
    }

    /// A sweep's most rows: a table a user reads, not a grid search.
    static let maxSweepRows = 64

    /// One row's figures, or why it has none.
    struct SweepRow {
        var label: String
        var bindings: [String: Int]
        var summary: Summary?
        var training: TrainingMemory?
        var error: String?
    }

    /// Takes every `--set NAME=V1,V2,...` (a comma makes it a list) out of the command line; the
    /// rest goes to the usual option parsing.
    static func extractSweep(_ args: [String]) throws -> (rest: [String], sweep: Sweep?) {
        var rest: [String] = [], sweep = Sweep(names: [], values: [])
        var i = 0
        while i < args.count {
            var spec: String?
            if args[i] == "--set", i + 1 < args.count, args[i + 1].contains(",") {
                spec = args[i + 1]
                i += 1
            } else if args[i].hasPrefix("--set="), args[i].contains(",") {
                spec = String(args[i].dropFirst(6))
            }
            if let spec {
                let (name, list) = try sweepList(spec)
                if sweep.names.contains(name) { throw UsageError(message: "--set \(name) is given twice") }
                sweep.names.append(name)
                sweep.values.append(list)
            } else {
                rest.append(args[i])
            }
            i += 1
        }
        guard !sweep.names.isEmpty else { return (rest, nil) }
        var count = 1
        for list in sweep.values {
            let (product, overflow) = count.multipliedReportingOverflow(by: list.count)
            guard !overflow, product <= maxSweepRows else {
                let sizes = sweep.values.map { String($0.count) }.joined(separator: " x ")
                let all = sweep.values.reduce(1) { $0.multipliedReportingOverflow(by: $1.count).overflow ? Int.max : $0 * $1.count }
                throw UsageError(message: "the sweep has \(sizes) = \(all == Int.max ? "too many" : String(all)) rows, more than \(maxSweepRows); shorten a list")
            }
            count = product
        }
        return (rest, sweep)
    }

    /// `seq=128,512,2048` -> ("seq", [128, 512, 2048]), each value checked as one `--set` value is.
    static func sweepList(_ spec: String) throws -> (String, [Int]) {
        let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw UsageError(message: "--set expects NAME=VALUE or NAME=V1,V2,..., got '\(spec)'") }
        var values: [Int] = []
        for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw UsageError(message: "--set \(parts[0]): the list '\(parts[1])' has an empty value") }
            let (name, value) = try binding("\(parts[0])=\(item)")
            guard !values.contains(value) else { throw UsageError(message: "--set \(name) lists \(value) twice") }
            values.append(value)
        }
        return (parts[0], values)
    }

    /// Compiles and counts the spec once per row. A row whose sizes make the spec invalid shows its
    /// error (its diagnostics go to standard error) and the others still run; the exit status is then 1.
    static func paramsSweep(_ r: ParamsRequest, _ sweep: Sweep) -> Output {
        var out = Output(), rows: [SweepRow] = [], errors = 0, warned = false
        for combination in sweep.rows {
            var row = SweepRow(label: combination.map { "\($0.name)=\($0.value)" }.joined(separator: " "), bindings: r.bindings)
            for (name, value) in combination { row.bindings[name] = value }
            let c = Pipeline.compile(path: r.file, bindings: row.bindings, fromCommandLine: true)
            // An unreadable file or a size the spec does not have fails every row alike: said once.
            if c.file == nil || (!c.succeeded && c.diagnostics.diagnostics.allSatisfy { $0.severity != .error || $0.loc == nil }) {
                return Output(stderr: diagnosticsText(c), status: 1)
            }
            guard c.succeeded, let g = c.graph else {
                let count = c.diagnostics.errorCount + c.diagnostics.droppedErrors
                errors += max(1, count)
                row.error = c.diagnostics.diagnostics.first { $0.severity == .error }?.message ?? "the spec does not check"
                out.stderr += diagnosticsText(c.diagnostics) + "note: in the sweep's row \(row.label)\n"
                rows.append(row)
                continue
            }
            if !warned { out.stderr += diagnosticsText(c.diagnostics) }
            warned = true
            do {
                row.summary = try Summary(g)
                row.training = try r.training.map { try TrainingMemory(g, options: $0) }
            } catch {
                row.error = paramsErrorMessage(error)
                out.stderr += "\(r.file): error: \(row.error!)\nnote: in the sweep's row \(row.label)\n"
                errors += 1
            }
            rows.append(row)
        }
        out.stdout = r.json ? ParamsReport.sweepJSON(rows, sweep: sweep.names, file: r.file, training: r.training)
            : ParamsReport.sweepTable(rows, sweep: sweep.names, bindings: r.bindings, training: r.training)
        out.stderr += errorsGenerated(errors)
        out.status = errors > 0 ? 1 : 0
        return out
    }
}
