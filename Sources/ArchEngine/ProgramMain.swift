import Foundation
import ArchKernels
import ArchIO

/// The command line of a program made by `archc build`:
///
///     PROGRAM --weights W.safetensors [--weights ...] --input X.npy [--input NAME=X.npy ...] [--output Y.npy]
///             [--top K] [--bench N] [--threads N]
///
/// The same file formats, errors and report as `archc run`. `--bench N` runs N times after a
/// warm-up and prints `median_ms=<number>` as its last line.
public enum ProgramMain {
    public static func run(_ arguments: [String], _ e: Executable, forward: (Frame) throws -> Void) -> Int32 {
        // A closed pipe is a failed write, not a signal.
        signal(SIGPIPE, SIG_IGN)
        do {
            let options = try Options(arguments, e)
            if options.help { write(usage(e), to: 1); return 0 }
            let (session, warnings) = try Session.load(e, weights: options.weights)
            for w in warnings { write("warning: \(w)\n", to: 2) }
            session.maxThreads = min(options.threads, e.threads)
            var inputs: [String: Tensor] = [:]
            for (name, path) in options.inputs {
                let t = try NPY.read(path: path)
                if let port = e.inputs.first(where: { $0.name == name }), t.shape != port.shape {
                    throw EngineError("input '\(name)' has shape \(t.shape) but the program was built for \(port.shape)",
                                      notes: ["its shapes are fixed when it is built: run archc build again with --set (e.g. --set batch=\(t.shape.first ?? 1))"])
                }
                inputs[name] = t
            }
            var times: [Double] = []
            var y = try session.run(inputs, forward)
            for _ in 0..<options.repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                y = try session.run(inputs, forward)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            if let path = options.output { try NPY.write(y, to: path) }
            var report = RunReport.render(y, milliseconds: RunReport.median(times), repeats: options.repeats, top: options.top)
            if options.bench != nil { report += "median_ms=\(RunReport.fixed(RunReport.median(times), 3))\n" }
            return write(report, to: 1) ? 0 : 1
        } catch let e as Options.UsageError {
            write("error: \(e.message)\n\n\(usage(e.executable))\n", to: 2)
            return 2
        } catch {
            write("\(error)\n", to: 2)
            return 1
        }
    }

    static func usage(_ e: Executable) -> String {
        let inputs = e.inputs.map { "\($0.name) \($0.shape)\($0.isTokens ? " token ids" : "")" }.joined(separator: ", ")
        return """
        USAGE: \(CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "program") --weights W.safetensors --input X.npy [--input NAME=X.npy ...] [--output Y.npy] [--top K] [--bench N] [--threads N]

        Runs \(e.name), built by archc for inputs \(inputs); output \(e.output.shape).
        --weights takes a safetensors file, a sharded checkpoint's model.safetensors.index.json or a folder
        save_pretrained wrote; given several times, the files are the shards of one checkpoint.
        --bench N runs N times after a warm-up and prints median_ms=<number> last.
        --threads N uses at most N threads (it was built for \(e.threads)).
        """
    }

    /// Writes text to a file descriptor (1: standard output, 2: standard error); false when it
    /// cannot be written (a full disk, a closed pipe).
    @discardableResult
    static func write(_ s: String, to fd: Int32) -> Bool {
        let bytes = Array(s.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}

/// The options of a built program, every number checked.
struct Options {
    struct UsageError: Error { var message: String; var executable: Executable }

    var weights: [String] = [], output: String?, top: Int?, bench: Int?, threads = Int.max, help = false
    var inputs: [(name: String, path: String)] = []
    var repeats: Int { bench ?? 1 }

    init(_ arguments: [String], _ e: Executable) throws {
        func fail(_ m: String) -> UsageError { UsageError(message: m, executable: e) }
        func number(_ option: String, _ value: String, min: Int) throws -> Int {
            guard let n = Int(value), n >= min, n <= 1 << 30 else { throw fail("\(option) needs a whole number from \(min), got '\(value)'") }
            return n
        }
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--help" || a == "-h" { help = true; i += 1; continue }
            guard ["--weights", "--input", "--output", "--top", "--bench", "--threads"].contains(a) else { throw fail("unknown option '\(a)'") }
            guard i + 1 < arguments.count else { throw fail("\(a) needs a value") }
            let v = arguments[i + 1]
            switch a {
            case "--weights": weights.append(v)
            case "--output": output = v
            case "--top": top = try number(a, v, min: 1)
            case "--bench": bench = try number(a, v, min: 1)
            case "--threads": threads = try number(a, v, min: 1)
            default: inputs.append(try Options.input(v, index: inputs.count, e, fail))
            }
            i += 2
        }
        if help { return }
        guard !weights.isEmpty else { throw fail("--weights is required") }
        let missing = e.inputs.filter { port in !inputs.contains { $0.name == port.name } }
        guard missing.isEmpty else { throw fail("no data for input '\(missing[0].name)'; pass --input \(missing[0].name)=FILE.npy") }
    }

    /// `--input X.npy` for the next input in order, or `--input NAME=X.npy`.
    static func input(_ v: String, index: Int, _ e: Executable, _ fail: (String) -> UsageError) throws -> (String, String) {
        let parts = v.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2, e.inputs.contains(where: { $0.name == parts[0] }) { return (parts[0], parts[1]) }
        guard index < e.inputs.count else {
            throw fail("the network has \(e.inputs.count) input\(e.inputs.count == 1 ? "" : "s") (\(e.inputs.map(\.name).joined(separator: ", "))); '\(v)' is one too many")
        }
        return (e.inputs[index].name, v)
    }
}
