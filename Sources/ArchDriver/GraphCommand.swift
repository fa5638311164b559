import Foundation
import ArchSyntax
import ArchSemantics
import ArchIO
import ArchGraph

/// `archc graph FILE -o net.svg [--format svg|dot|mermaid] [--depth N] [--set ...]`.
extension Driver {
    static let graphUsage = """
    USAGE: archc graph FILE -o OUT [--format svg|dot|mermaid] [--depth N] [--set NAME=VALUE ...]

    Draws the network: one box per layer or collapsed block with its output shape and parameters
    (the figures of 'archc params'), repeated blocks once with their count, residual and parallel
    branches as edges. The SVG is laid out by archc and opens in any browser; DOT is for Graphviz,
    Mermaid for Markdown pages. -o - writes to standard output.

    OPTIONS:
      -o OUT                   the file to write (- for standard output)
      --format FORMAT          svg, dot or mermaid (default: from OUT's extension, .dot/.gv or .mmd; else svg)
      --depth N                draw blocks nested up to N deep as boxes, expanding the ones above (default 3)
      --set NAME=VALUE         bind a symbolic dimension; shapes stay symbolic otherwise (B = batch)
    """

    enum GraphFormat: String, CaseIterable {
        case svg, dot, mermaid

        /// The format an output file's name implies.
        init(path: String) {
            let lower = path.lowercased()
            self = lower.hasSuffix(".dot") || lower.hasSuffix(".gv") ? .dot : lower.hasSuffix(".mmd") || lower.hasSuffix(".mermaid") ? .mermaid : .svg
        }
    }

    static func graph(_ args: [String]) -> Output {
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do { opts = try parseOptions(args, flags: [], valued: ["-o", "--format", "--depth"]) } catch let e as UsageError {
            return usageError(e.message, graphUsage)
        } catch { return usageError("\(error)", graphUsage) }
        guard opts.files.count == 1, let path = opts.values["-o"] else {
            return usageError(opts.files.count > 1 ? "graph takes one FILE" : "graph needs one FILE and -o OUT (- for standard output)", graphUsage)
        }
        var format = GraphFormat(path: path)
        if let f = opts.values["--format"] {
            let names = GraphFormat.allCases.map(\.rawValue)
            guard let known = GraphFormat(rawValue: f.lowercased()) else {
                return usageError("unknown format '\(f)'\(Suggest.didYouMean(f, in: names)); the formats are \(names.joined(separator: ", "))", graphUsage)
            }
            format = known
        }
        var depth = 3
        if let d = opts.values["--depth"] {
            guard let n = Int(d), n >= 1 else { return usageError("--depth needs a whole number from 1 (top-level blocks only), got '\(d)'", graphUsage) }
            depth = n
        }
        let c = Pipeline.compile(path: opts.files[0], bindings: opts.bindings, fromCommandLine: true)
        var out = Output(stderr: diagnosticsText(c))
        guard c.succeeded, let g = c.graph else { out.status = 1; return out }
        do {
            let summary = try Summary(g, arena: false)
            let diagram = DiagramBuilder.build(g, moduleParams: summary.rows.map(\.params), totalParams: summary.params, depth: depth)
            let text: String = switch format {
            case .svg: SVGWriter.write(diagram, depth: depth)
            case .dot: DOTWriter.write(diagram)
            case .mermaid: MermaidWriter.write(diagram)
            }
            if path == "-" {
                out.stdout = text
                return out
            }
            try AtomicFile.write(Data(text.utf8), to: path)
            out.stdout = "wrote \(path): \(format.rawValue), \(diagram.nodes.count) nodes, \(diagram.edges.count) edges (depth \(depth))\n"
        } catch let e as ArithmeticOverflow {
            out.stderr += "\(opts.files[0]): error: the \(e.what) overflows a 64-bit integer\n" + errorsGenerated(1)
            out.status = 1
        } catch let e as IOError {
            out.stderr += "\(e)\n" + errorsGenerated(1)
            out.status = 1
        } catch {
            out.stderr += "\(opts.files[0]): error: \(error)\n" + errorsGenerated(1)
            out.status = 1
        }
        return out
    }
}
