import Foundation
import ArchSyntax
import ArchSemantics
import ArchIR
import ArchCodegen
import ArchKernels
import ArchIO

/// `archc build`: the spec compiled ahead of time into a native executable or a Swift package.
extension Driver {
    static let buildUsage = """
    USAGE: archc build FILE -o PROGRAM [--set NAME=VALUE ...] [--threads N] [--tune] [--target-cpu CPU] [--keep DIR]
           archc build FILE --package DIR [--name NAME] [--set NAME=VALUE ...] [--threads N] [--tune] [--target-cpu CPU]

    Compiles the network into Swift specialised to its shapes (every step a kernel call with its sizes
    written out, batchnorms, activations and residual adds fused) and builds it with swiftc:
      -o PROGRAM       a native executable:
                         PROGRAM --weights W.safetensors --input X.npy [--output Y.npy] [--bench N]
                       (the same files, errors and report as archc run; --bench N prints median_ms last)
      --package DIR    a dependency-free SwiftPM package exposing Model, with an example and a README
    --set NAME=VALUE   binds a size (batch is 1 unless set); the program runs exactly these shapes
    --threads N        schedules for N threads (default: every core of this machine)
    --tune             times each convolution's algorithms here and keeps the fastest (cached in
                       ~/.cache/archc/tuning.json); without it the cost model chooses
    --target-cpu CPU   the CPU to compile for (default: native, this machine's); e.g. x86-64-v4, znver4
    --keep DIR         also writes the generated sources to DIR
    --name NAME        the package's module name (default: from the model's name)
    The compiler is $SWIFTC, or swiftc on the PATH.
    """

    static func build(_ args: [String]) -> Output {
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do {
            opts = try parseOptions(args, flags: ["--tune"], valued: ["-o", "--package", "--threads", "--target-cpu", "--keep", "--name"])
        } catch let e as UsageError { return usageError(e.message, buildUsage) } catch { return usageError("\(error)", buildUsage) }
        guard opts.files.count == 1 else { return usageError(opts.files.isEmpty ? "build needs a FILE" : "build takes one FILE", buildUsage) }
        let output = opts.values["-o"], package = opts.values["--package"]
        guard (output == nil) != (package == nil) else { return usageError("build needs either -o PROGRAM or --package DIR", buildUsage) }
        if output == "-" || package == "-" {
            return usageError("build makes \(output == "-" ? "an executable" : "a package folder"), not text: give \(output == "-" ? "-o" : "--package") a path, not '-'", buildUsage)
        }
        let cpu = opts.values["--target-cpu"] ?? "native"
        guard !cpu.isEmpty, cpu.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            return usageError("--target-cpu takes a CPU name such as native, x86-64-v3 or znver4, got '\(cpu)'", buildUsage)
        }
        var build = Build(spec: opts.files[0], bindings: opts.bindings, cpu: cpu, keep: opts.values["--keep"],
                          tuning: opts.flags.contains("--tune") ? Tuning() : nil)
        do {
            build.threads = try threadCount(opts.values["--threads"])
            guard let program = try build.plan() else { return Output(stderr: build.diagnostics, status: 1) }
            if let output {
                try build.executable(program, to: output)
            } else if let package {
                let name = opts.values["--name"] ?? SwiftText.identifier(program.name, fallback: "ArchModel")
                guard SwiftText.identifier(name, fallback: "") == name else {
                    return usageError("--name must be a Swift module name (letters and digits, starting with a capital), got '\(name)'", buildUsage)
                }
                try build.package(program, to: package, name: name)
            }
            return Output(stderr: build.diagnostics)
        } catch {
            return Output(stderr: build.diagnostics + "\(error)\n", status: 1)
        }
    }
}

/// One `archc build`: its stages, each announced on standard error with the time it took.
struct Build {
    let spec: String
    var bindings: [String: Int]
    let cpu: String
    let keep: String?
    let tuning: Tuning?
    var threads = Parallel.cores
    /// Warnings from the checker, printed at the end.
    var diagnostics = ""

    static let stages = 4

    /// Runs one stage, its line on standard error as it starts and its time as it ends (the compiler
    /// takes a while: the line shows what archc is waiting for).
    func stage<T>(_ n: Int, _ what: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        progress("[\(n)/\(Build.stages)] \(what) ...")
        let result = try body()
        progress(" \(String(format: "%.2f", Date().timeIntervalSince(start))) s\n")
        return result
    }

    /// Progress on standard error, at once (paths escaped as in diagnostics).
    func progress(_ text: String) {
        _ = StandardStreams.write(TerminalText.escaped(text), to: 2)
    }

    /// Checks the spec (batch 1 unless bound) and runs the passes; nil when the spec has errors.
    mutating func plan() throws -> Program? {
        if bindings["batch"] == nil { bindings["batch"] = 1 }
        let c = stage(1, "checking \(spec)") { Pipeline.compile(path: spec, bindings: bindings, fromCommandLine: true) }
        diagnostics = Driver.diagnosticsText(c)
        guard c.succeeded, let g = c.graph else { return nil }
        let threads = self.threads
        let tuning = self.tuning
        defer { tuning?.save() }
        return try stage(2, "planning for \(threads) thread\(threads == 1 ? "" : "s")\(tuning == nil ? "" : ", timing convolutions") (\(Passes.names.joined(separator: ", ")))") {
            try Passes.run(g, threads: threads, tuning: tuning)
        }
    }

    /// Writes the sources, compiles them into a temporary file beside `path`, then renames it into place.
    func executable(_ p: Program, to path: String) throws {
        let sources = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: sources) }
        var files = SwiftEmitter.engineFiles(under: "Engine")
        files.append(("Network.swift", SwiftEmitter.network(p, specPath: spec)))
        files.append(("main.swift", SwiftEmitter.main))
        try stage(3, "writing Swift (\(p.steps.count) steps, \(files.count) files)") { try write(files, into: sources) }
        if let keep { try write(files, into: URL(fileURLWithPath: keep)) }
        let toolchain = try Toolchain.find()
        try AtomicFile.produce(at: path) { temporary in
            try stage(4, "compiling with swiftc -Ounchecked -wmo -target-cpu \(cpu)") {
                _ = try toolchain.run(["-Ounchecked", "-wmo", "-target-cpu", cpu, "-module-name", "ArchProgram", "-o", temporary]
                                      + files.map { sources.appendingPathComponent($0.path).path })
            }
        }
        progress("built \(path)\n")
    }

    /// Writes the package into a temporary folder beside `dir`, then puts it in place (replacing a
    /// package archc made there before, never anything else).
    func package(_ p: Program, to dir: String, name: String) throws {
        let target = URL(fileURLWithPath: dir)
        let fm = FileManager.default
        if fm.fileExists(atPath: target.path) {
            let contents = (try? fm.contentsOfDirectory(atPath: target.path)) ?? []
            guard contents.isEmpty || contents.contains(".archc-package") else {
                throw Toolchain.Failure(description: "error: \(dir) exists and is not a package archc made; give a new folder")
            }
        }
        let files = SwiftPackage.files(p, specPath: spec, name: name, targetCPU: cpu)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).package-\(getpid())")
        defer { try? fm.removeItem(at: temporary) }
        try stage(3, "writing the package \(name) (\(files.count) files)") { try write(files, into: temporary) }
        let old = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).old-\(getpid())")
        if fm.fileExists(atPath: target.path) { try fm.moveItem(at: target, to: old) }
        defer { try? fm.removeItem(at: old) }
        try fm.moveItem(at: temporary, to: target)
        progress("[4/4] wrote \(dir): swift build -c release there, or depend on it by path\n")
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("archc-build-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func write(_ files: [(path: String, text: String)], into dir: URL) throws {
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
    }
}
