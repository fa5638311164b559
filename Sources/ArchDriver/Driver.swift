import Foundation
import ArchSyntax
import ArchSemantics

/// Command-line front: parses arguments, runs the pipeline, prints reports. Returns the exit code.
public enum Driver {
    public static let version = "archc 0.1.0"

    public struct Output {
        public var stdout = ""
        public var stderr = ""
        public var status: Int32 = 0
    }

    static let usage = """
    OVERVIEW: archc compiles a small text language that describes neural networks.

    USAGE: archc COMMAND [OPTIONS]

    COMMANDS:
      check FILE...            parse and shape-check specs; report every error
      params FILE              parameter and MAC counts per layer (like torchinfo); --train: memory to
                               train; --set NAME=V1,V2,...: one row per size
      init FILE -o W           random weights, initialised as PyTorch does (safetensors)
      run FILE --weights W --input X.npy
                               run the network (interpreter) on real weights and inputs
      emit torch FILE -o M.py  a PyTorch module with the same parameter names
      export onnx FILE -o M.onnx
                               an ONNX model (opset 18) with the weights, for ONNX Runtime and friends
      import onnx M.onnx -o FILE.arch
                               a spec (and --weights-out W.safetensors) from an ONNX graph of archc's ops
      graph FILE -o net.svg    a picture of the network (SVG laid out by archc; --format dot, mermaid)
      build FILE -o PROGRAM    compile to a native executable (or --package DIR: a Swift package)
      ir FILE [--after PASS]   print the network after a pass: checked graph, lowered, fused, scheduled, buffers planned
      ops [OP] [--json]        the built-in ops with their arguments (all, or the ones named)

    OPTIONS:
      --help, -h               show help (also after a command)
      --version                show the version

    See 'archc COMMAND --help' for a command's options.
    """

    static let checkUsage = """
    USAGE: archc check FILE... [--set NAME=VALUE ...] [--dump-graph]

    Parses and checks each file; prints diagnostics on stderr.
    Exit status: 0 when every file is well-formed and well-shaped, 1 otherwise, 2 on a usage error.

    OPTIONS:
      --set NAME=VALUE         bind a symbolic dimension (batch, seq, ...)
      --dump-graph             print the checked graph
    """

    /// Runs a command. What it prints is terminal-safe: a control character from a spec, a tensor
    /// name or a path is escaped (`\u{1B}`), never written raw. With `colour`, the diagnostics on
    /// standard error are then coloured (see `wantsColour`).
    public static func run(_ args: [String], colour: Bool = false) -> Output {
        var out = dispatch(args)
        out.stdout = TerminalText.escaped(out.stdout)
        out.stderr = TerminalText.escaped(out.stderr)
        if colour { out.stderr = DiagnosticRenderer.coloured(out.stderr) }
        return out
    }

    /// Colour as swiftc gives it: only when standard error is a terminal, never when `NO_COLOR` is
    /// set to anything (no-color.org) or the terminal is `dumb`.
    public static func wantsColour(stderrIsTerminal: Bool, environment: [String: String]) -> Bool {
        stderrIsTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }

    static func dispatch(_ args: [String]) -> Output {
        var out = Output()
        guard let command = args.first else {
            out.stderr = usage + "\n"
            out.status = 2
            return out
        }
        let rest = Array(args.dropFirst())
        switch command {
        case "--help", "-h", "help":
            out.stdout = usage + "\n"
        case "--version", "version":
            out.stdout = version + "\n"
        default:
            guard let (help, action) = commands[command] else {
                out.stderr = "error: unknown command '\(command)'\(Suggest.didYouMean(command, in: Array(commands.keys)))\n\n" + usage + "\n"
                out.status = 2
                return out
            }
            if rest.contains("--help") || rest.contains("-h") {
                out.stdout = help + "\n"
                return out
            }
            return action(rest)
        }
        return out
    }

    /// Every command: its help text and what runs it.
    static let commands: [String: (help: String, run: @Sendable ([String]) -> Output)] = [
        "check": (checkUsage, check),
        "params": (paramsUsage, params),
        "init": (initUsage, initWeights),
        "run": (runUsage, runNetwork),
        "emit": (emitUsage, emit),
        "export": (exportUsage, exportModel),
        "import": (importUsage, importModel),
        "graph": (graphUsage, graph),
        "ir": (irUsage, ir),
        "build": (buildUsage, build),
        "ops": (opsUsage, ops),
    ]

    static func check(_ args: [String]) -> Output {
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do { opts = try parseOptions(args, flags: ["--dump-graph"], valued: []) } catch let e as UsageError {
            return usageError(e.message, checkUsage)
        } catch { return usageError("\(error)", checkUsage) }
        guard !opts.files.isEmpty else { return usageError("check needs at least one FILE", checkUsage) }
        var out = Output()
        var errors = 0
        for f in opts.files {
            let c = Pipeline.compile(path: f, bindings: opts.bindings, fromCommandLine: true)
            errors += c.diagnostics.errorCount + c.diagnostics.droppedErrors
            out.stderr += diagnosticsText(c.diagnostics)
            if !c.succeeded { out.status = 1 } else if opts.flags.contains("--dump-graph"), let g = c.graph { out.stdout += GraphPrinter.print(g) }
        }
        if out.status != 0 { out.stderr += errorsGenerated(errors) }
        return out
    }
}
