import Foundation
import XCTest
@testable import ArchDriver
@testable import ArchIO
@testable import ArchSyntax

/// Fuzzing the command line: valid command lines of every command over small specs, weights and
/// inputs made in a temporary folder, mutated (numbers swapped for edge cases, options dropped,
/// doubled, misspelt or given twice, paths swapped for devices, links, folders, missing or wrong
/// files, control characters, `--set` bindings) and run in-process through `Driver.run`. Each must
/// end in a status of 0, 1 or 2 with an error message for a failure, never a trap, a hang, an
/// internal error, a raw control character on the terminal, a left-over temporary file, a replaced
/// device or link, or a changed input file.
extension FuzzTests {
    /// The files the command lines use, made once per run.
    struct World {
        let dir: String
        let specs: [String], weights: [String], inputs: [String], outputs: [String], others: [String]
        /// Spec, its weights and a fitting input: the starting points of valid `run` lines.
        let runnable: [(spec: String, weights: String, input: String)]
        /// Every input file's bytes, to notice (and undo) a command that wrote over one.
        var originals: [String: Data] = [:]

        func p(_ name: String) -> String { dir + "/" + name }
    }

    static func makeWorld() throws -> World {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-fuzz-cli-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        for sub in ["", "/out", "/folder"] { try FileManager.default.createDirectory(atPath: dir + sub, withIntermediateDirectories: true) }
        func write(_ name: String, _ text: String) throws -> String {
            try text.write(toFile: dir + "/" + name, atomically: false, encoding: .utf8)
            return dir + "/" + name
        }
        let mlp = try write("mlp.arch", "input x 4\nfc: linear 3\nsoftmax\n")
        let conv = try write("conv.arch", "input image 2x6x6\nconv 3 4 pad 1 bias off\nbatchnorm\nrelu\nglobalpool\nhead: linear 3\n")
        let tokens = try write("tokens.arch", "input ids [seq] tokens\nembed 11 4\npos learned\nlinear 5\n")
        let seq = try write("seq.arch", "input x [seq, 4]\npos: pos learned\nattention heads 2\nlinear 2\n")
        let bad = try write("bad.arch", "input x 4\nlinear 0\nrelu \u{1B}[2J\n")
        let bom = try write("bom.arch", "\u{FEFF}input x 4\nlinear 2\n")
        func initialise(_ spec: String, _ name: String, _ extra: [String] = []) -> String {
            _ = Driver.run(["init", spec, "-o", dir + "/" + name] + extra)
            return dir + "/" + name
        }
        let w = [initialise(mlp, "mlp.safetensors"), initialise(conv, "conv.safetensors"),
                 initialise(tokens, "tokens.safetensors", ["--set", "seq=3"]), initialise(seq, "seq.safetensors", ["--set", "seq=3"])]
        let good = try Data(contentsOf: URL(fileURLWithPath: w[0]))
        try good.prefix(good.count - 3).write(to: URL(fileURLWithPath: dir + "/cut.safetensors"))
        try SafeTensors.write([("fc.weight", Tensor(shape: [3, 4], ints: Array(repeating: 1, count: 12)))], to: dir + "/ints.safetensors")
        func npy(_ name: String, _ t: Tensor) throws -> String {
            try NPY.write(t, to: dir + "/" + name)
            return dir + "/" + name
        }
        let x = try npy("x.npy", Tensor(shape: [2, 4], floats: [1, 2, 3, 4, -1, -2, -3, -4]))
        let image = try npy("image.npy", Tensor(shape: [1, 2, 6, 6], floats: (0..<72).map { Float($0) / 72 }))
        let ids = try npy("ids.npy", Tensor(shape: [1, 3], ints: [1, 5, 10]))
        let seqx = try npy("seq.npy", Tensor(shape: [1, 3, 4], floats: (0..<12).map { Float($0) }))
        let inputs = [x, image, ids, seqx, try npy("outside.npy", Tensor(shape: [1, 3], ints: [1, 99, 2])),
                      try npy("int.npy", Tensor(shape: [2, 4], ints: Array(repeating: 3, count: 8))),
                      try npy("nan.npy", Tensor(shape: [2, 4], floats: [.nan, .infinity, 0, 0, 0, 0, 0, 0])),
                      try npy("empty.npy", Tensor(shape: [0, 4], floats: [])), try npy("scalar.npy", Tensor(shape: [], floats: [1])),
                      try write("garbage.npy", "not a numpy file")]
        _ = try write("out/target", "")
        _ = try write("plainfile", "")
        try? FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "out/target")
        try? FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: "out/made")
        var outputs = ["out/a.npy", "out/b.safetensors", "out/c.py", "link", "dangling", "folder", "plainfile/x", "missing/x", "out/"].map { dir + "/" + $0 }
        outputs += ["/dev/null", ""] + (FileManager.default.fileExists(atPath: "/dev/full") ? ["/dev/full"] : [])
        var world = World(dir: dir, specs: [mlp, conv, tokens, seq, bad, bom], weights: w + [dir + "/cut.safetensors", dir + "/ints.safetensors"],
                          inputs: inputs, outputs: outputs, others: [dir + "/folder", dir + "/nowhere.arch", "/dev/null"],
                          runnable: [(mlp, w[0], x), (conv, w[1], image), (tokens, w[2], ids), (seq, w[3], seqx)])
        for f in world.specs + world.weights + world.inputs { world.originals[f] = try Data(contentsOf: URL(fileURLWithPath: f)) }
        return world
    }

    static let cliNumbers = ["-1", "0", "1", "2", "3", "5", "abc", "", "99999999999999999999", "2147483647", "2147483648", "-0", "+2",
                             "1e3", " 3", "0x10", "1_000", "1000001", "9223372036854775807", "18446744073709551616", "٣"]
    static let cliOptions = ["--help", "-h", "--version", "--json", "--names", "--depth", "--set", "--set=", "--set=seq=2", "--dump-graph",
                             "-o", "--seed", "--weights", "--input", "--output", "--top", "--repeat", "--profile", "--dump-ir", "--after",
                             "--markdown", "--format", "--bogus", "-", "--", "--top=3", "-x", "--inputs", "--weight",
                             "--train", "--optimizer", "--dtype", "--set=seq=2,4", "--set=batch=1,,2"]
    static let cliBindings = ["seq=3", "seq=0", "seq=-1", "batch=2", "batch=2147483647", "seq=2147483648", "a*b=4", "=3", "seq=", "seq",
                              "seq=3=4", "batch=1", "x=2", "seq=abc", "seq\u{1B}=2"]

    /// A valid command line of some command, to mutate.
    static func baseCommand(_ w: World, _ rng: inout Random) -> [String] {
        let (spec, weights, input) = rng.pick(w.runnable)
        let out = rng.pick(w.outputs)
        switch rng.below(10) {
        case 0: return ["check"] + (0...rng.below(2)).map { _ in rng.pick(w.specs) } + (rng.chance(30) ? ["--dump-graph"] : [])
        case 1: return ["params", rng.pick(w.specs)] + rng.pick([[], ["--json"], ["--names"], ["--depth", "1"], ["--set", "seq=4"],
                                                                 ["--train", "--set", "seq=4"], ["--train", "--dtype", "bf16", "--optimizer", "sgd"],
                                                                 ["--set", "seq=2,4", "--train", "--json"], ["--set", "batch=1,2", "--set", "seq=3,5"]])
        case 2: return ["init", spec, "-o", out, "--seed", "7"] + (rng.chance(50) ? ["--set", "seq=3"] : [])
        case 3: return ["emit", "torch", spec, "-o", out]
        case 4: return ["ir", spec, "--after", rng.pick(["check", "lower", "fuse", "plan", "bogus"]), "--set", "seq=3"]
        case 5: return ["ops"] + (rng.chance(50) ? ["--markdown"] : [])
        case 6: return ["graph", rng.pick(w.specs), "-o", rng.chance(30) ? "-" : out] + rng.pick([[], ["--depth", "1"], ["--format", "dot"], ["--format", "mermaid"], ["--set", "seq=4"]])
        case 7: return ["export", "onnx", spec, "-o", out] + rng.pick([[], ["--weights", weights], ["--dynamic", "batch"], ["--set", "seq=3"], ["--dynamic", "seq"]])
        default:
            var line = ["run", spec, "--weights", weights, "--input", input]
            if rng.chance(50) { line += ["--output", out] }
            if rng.chance(50) { line += ["--top", "2"] }
            if rng.chance(30) { line += ["--repeat", "2"] }
            if rng.chance(20) { line.append(rng.pick(["--profile", "--dump-ir"])) }
            return line
        }
    }

    /// One mutation of a command line.
    static func mutateCommand(_ line: [String], _ w: World, _ rng: inout Random) -> [String] {
        var a = line
        let at = rng.below(a.count + 1)
        var kind = rng.below(12)
        if kind == 10 && !rng.chance(30) { kind = 0 }  // --help ends every line the same way: rarely
        if kind == 11 && !rng.chance(50) { kind = 6 }
        switch kind {
        case 0, 1:  // an edge-case number for a value (or any argument)
            let numeric = a.indices.filter { Int(a[$0]) != nil }
            a[numeric.isEmpty ? min(at, a.count - 1) : rng.pick(numeric)] = rng.pick(cliNumbers)
        case 2 where a.count > 1: a.remove(at: rng.below(a.count))
        case 3 where !a.isEmpty:  // an argument twice
            let k = rng.below(a.count)
            a.insert(contentsOf: a[k..<min(a.count, k + 2)], at: k)
        case 4 where a.count > 2:
            a.swapAt(1 + rng.below(a.count - 1), 1 + rng.below(a.count - 1))
        case 5: a.insert(contentsOf: rng.chance(50) ? [rng.pick(cliOptions)] : [rng.pick(cliOptions), rng.pick(cliNumbers + w.outputs)], at: max(1, at))
        case 6, 7:  // another path: any file of the world, a device, a folder, a missing file
            let paths = a.indices.filter { a[$0].hasPrefix("/") || a[$0].isEmpty }
            if let k = paths.isEmpty ? nil : rng.pick(paths) { a[k] = rng.pick(w.specs + w.weights + w.inputs + w.outputs + w.others) }
        case 8 where !a.isEmpty:  // odd characters in an argument
            let k = rng.below(a.count)
            let odd = rng.pick(["\u{1B}[31m", "\u{7}", "\u{0}", "\u{FEFF}", "é", "\u{202E}", " ", "=", "\n"])
            a[k].insert(contentsOf: odd, at: a[k].index(a[k].startIndex, offsetBy: rng.below(a[k].count + 1)))
        case 9: a.insert(contentsOf: rng.chance(80) ? ["--set", rng.pick(cliBindings)] : ["--set"], at: max(1, at))
        case 10: a.insert(rng.pick(["--help", "-h"]), at: max(1, at))
        default:
            if !a.isEmpty { a[0] = rng.pick(["check", "params", "init", "run", "emit", "ir", "ops", "graph", "export", "import", "chek", "help", "version", "--version", ""]) }
        }
        return a
    }

    /// Runs one command line and checks everything it did.
    static func checkCommand(_ line: [String], _ w: World) -> (failure: String?, outcome: String) {
        let r = Driver.run(line)
        var problems: [String] = []
        if ![0, 1, 2].contains(r.status) { problems.append("exit status \(r.status)") }
        if r.status != 0 && !(r.stderr.contains("error") || r.stderr.contains("USAGE")) { problems.append("failed without an error message") }
        if r.status == 0 && r.stderr.contains("error:") { problems.append("succeeded with an error message") }
        if (r.stdout + r.stderr).contains("internal error") { problems.append("an internal error") }
        if (r.stdout + r.stderr).unicodeScalars.contains(where: TerminalText.isUnsafe) { problems.append("a raw control character in the output") }
        let files = FileManager.default.enumerator(atPath: w.dir).map { $0.compactMap { $0 as? String } } ?? []
        for f in files where f.contains(".tmp-") {
            problems.append("left a temporary file: \(f)")
            try? FileManager.default.removeItem(atPath: w.p(f))
        }
        var info = stat()
        if stat("/dev/null", &info) != 0 || info.st_mode & S_IFMT != S_IFCHR { problems.append("/dev/null is no longer a character device") }
        for link in ["link", "dangling"] where lstat(w.p(link), &info) != 0 || info.st_mode & S_IFMT != S_IFLNK {
            problems.append("\(link) is no longer a symbolic link")
        }
        for (path, data) in w.originals where (try? Data(contentsOf: URL(fileURLWithPath: path))) != data {
            // Written over when named as an output (legitimate); otherwise a bug.
            if !line.contains(where: { $0 == path }) { problems.append("changed \(path), which it was not asked to write") }
            try? data.write(to: URL(fileURLWithPath: path))
        }
        let failure = problems.isEmpty ? nil : problems.joined(separator: "; ") + "\n--- stderr:\n" + String(r.stderr.prefix(2000))
        return (failure, "exit \(r.status)")
    }

    /// An argument as a shell would need it, control characters escaped.
    static func shellWord(_ s: String) -> String {
        let e = TerminalText.escaped(s)
        return e.isEmpty || e.contains(where: { " '\"\\$`".contains($0) }) ? "'" + e.replacingOccurrences(of: "'", with: "'\\''") + "'" : e
    }
}

extension FuzzTests {
    func testMutatedCommandLinesEndInOutputOrErrors() throws {
        let world = try Self.makeWorld()
        let cwd = FileManager.default.currentDirectoryPath
        // Relative output paths a mutation makes up land in the temporary folder.
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(world.dir))
        defer {
            _ = FileManager.default.changeCurrentDirectoryPath(cwd)
            try? FileManager.default.removeItem(atPath: world.dir)
        }
        let start = Date()
        let watch = Self.campaign("command line", count: Self.caseCount(default: 400), salt: 0xC0AA_11D0, make: { _, rng in
            var line = Self.baseCommand(world, &rng)
            for _ in 0..<rng.pick([0, 1, 1, 1, 2, 2, 3]) { line = Self.mutateCommand(line, world, &rng) }
            return (line, "archc " + line.map(Self.shellWord).joined(separator: " "))
        }, check: { line, _ in Self.checkCommand(line, world) })
        Self.report("command line", watch, seconds: Date().timeIntervalSince(start))
        let tally = watch.with { $0.tally }
        XCTAssertGreaterThan(tally["exit 0", default: 0], 0, "some command lines should still succeed")
        XCTAssertGreaterThan(tally["exit 1", default: 0] + tally["exit 2", default: 0], 0, "most mutations should fail")
    }
}
