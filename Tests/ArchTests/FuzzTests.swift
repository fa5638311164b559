import Foundation
import XCTest
@testable import ArchRuntime
@testable import ArchIO
@testable import ArchSyntax
@testable import ArchSemantics
import ArchCore
@testable import ArchDriver
@testable import ArchIR
import ArchGraph

/// Deterministic fuzzing: seeded random mutations of the spec library (token swaps, deletions and
/// duplications, edge-case numbers, truncation, random and invalid bytes, duplicated lines, lines
/// swapped in from other specs, braces, generated layer lines of every op) through the whole
/// pipeline, reports included. Each mutant must end in success or in error diagnostics with a
/// message: never a crash, a trap, a hang or an internal error. A hang is caught by a watchdog
/// (the mutant is printed; the runaway thread cannot be stopped, so the run ends there).
///
/// To keep a debug build fast the seeds are the specs without their comment lines and with
/// repetitions cut to at most x2, plus slices of them (inputs, block definitions and a few
/// top-level statements). Set ARCHC_FUZZ_TRACE=/some/file to have each mutant written there before
/// it is compiled: after a crash that file holds the culprit.
///
/// The command line, safetensors files and .npy files are fuzzed the same way, with the same seed and
/// count variables (FuzzTests+CommandLine, +SafeTensors, +NumPy; their loop is FuzzTests+Harness).
final class FuzzTests: XCTestCase {
    /// Fixed, so every run checks the same mutants; ARCHC_FUZZ_SEED and ARCHC_FUZZ_COUNT override
    /// them for a longer hunt (the assertions stay the same).
    static let seed: UInt64 = ProcessInfo.processInfo.environment["ARCHC_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xA2C_5EED
    static let mutantCount = ProcessInfo.processInfo.environment["ARCHC_FUZZ_COUNT"].flatMap { Int($0) } ?? 10_000
    /// A mutant taking longer than this is reported as a hang.
    static let hangSeconds = 10.0

    /// The shared SplitMix64 generator with the draws the mutations use.
    struct Random {
        var base: SplitMix64
        init(state: UInt64) { base = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { base.next() }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }
}

// MARK: seeds

extension FuzzTests {
    static func isBlank(_ l: [UInt8]) -> Bool { l.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
    static func starts(_ l: [UInt8], _ word: String) -> Bool { l.starts(with: Array(word.utf8)) }

    /// A spec without its comment and blank lines, its repetitions cut to at most x2.
    static func core(_ spec: [UInt8]) -> [UInt8] {
        var b = joined(lines(spec).filter { l in !isBlank(l) && l.first { $0 != 32 } != UInt8(ascii: "#") })
        for t in tokens(b).reversed() where t.kind == .repeat_ {
            if let n = Int(String(decoding: b[t.range].dropFirst(), as: UTF8.self)), n > 2 { b.replaceSubrange(t.range, with: Array("x2".utf8)) }
        }
        return b
    }

    /// Top-level statements as groups of lines: from a line at brace depth 0 to the line that returns there.
    static func statements(_ b: [UInt8]) -> [[[UInt8]]] {
        var groups: [[[UInt8]]] = [], cur: [[UInt8]] = [], depth = 0
        for l in lines(b) {
            cur.append(l)
            for c in l { if c == UInt8(ascii: "{") { depth += 1 } else if c == UInt8(ascii: "}") { depth -= 1 } }
            if depth <= 0 { groups.append(cur); cur = []; depth = 0 }
        }
        if !cur.isEmpty { groups.append(cur) }
        return groups
    }

    /// `block NAME(...) {` -> NAME
    static func blockName(_ line: [UInt8]) -> String {
        let ts = tokens(line)
        return ts.count > 1 ? String(decoding: line[ts[1].range], as: UTF8.self) : ""
    }

    /// Slices of a spec: its model and input lines, its blocks, and one to three consecutive top-level layers.
    static func slices(_ core: [UInt8]) -> [[UInt8]] {
        let groups = statements(core)
        let header = groups.filter { starts($0[0], "model ") || starts($0[0], "input ") }
        let blocks = groups.filter { starts($0[0], "block ") }
        let layers = groups.filter { !starts($0[0], "model ") && !starts($0[0], "input ") && !starts($0[0], "block ") }
        func names(_ g: [[UInt8]]) -> Set<String> {
            let b = joined(g)
            return Set(tokens(b).filter { $0.kind == .name }.map { String(decoding: b[$0.range], as: UTF8.self) })
        }
        var out: [[UInt8]] = []
        for i in layers.indices {
            for n in 1...3 where i + n <= layers.count {
                // The blocks the layers use, directly or through other blocks.
                var used = names(Array(layers[i..<(i + n)].joined())), kept: [[[UInt8]]] = []
                while let b = blocks.first(where: { g in !kept.contains(g) && used.contains(blockName(g[0])) }) {
                    kept.append(b)
                    used.formUnion(names(b))
                }
                out.append(joined((header + blocks.filter { kept.contains($0) } + layers[i..<(i + n)]).flatMap { $0 }))
            }
        }
        return out
    }

    /// Non-ASCII and control bytes escaped, so a mutant can be pasted into a test.
    static func show(_ b: [UInt8]) -> String {
        let s = b.prefix(4000).map { c -> String in
            c == 10 || (c >= 32 && c < 127 && c != 92) ? String(UnicodeScalar(c)) : String(format: "\\x%02X", c)
        }.joined()
        return b.count > 4000 ? s + "... (\(b.count) bytes)" : s
    }
}

// MARK: the run

extension FuzzTests {
    /// Shared between the fuzzing thread and the watchdog on the test's thread.
    final class Progress: @unchecked Sendable {
        let lock = NSLock()
        var current = -1
        var started = Date()
        var mutant: [UInt8] = []
        var failures: [String] = []
        var succeeded = 0, diagnosed = 0, ran = 0
        var mutating = 0.0
        var stop = false
        func with<T>(_ f: (Progress) -> T) -> T { lock.lock(); defer { lock.unlock() }; return f(self) }
    }

    /// Compiles one mutant through everything `archc check`, `archc params` and `archc graph` do, and the IR's passes;
    /// returns a failure, if any.
    static func check(_ bytes: [UInt8], _ n: Int, _ progress: Progress) -> String? {
        let c = Pipeline.compile(SourceFile(path: "mutant\(n).arch", bytes: bytes), bindings: ["batch": 1, "seq": 16])
        let errors = c.diagnostics.diagnostics.filter { $0.severity == .error }
        _ = DiagnosticRenderer.render(c.diagnostics.diagnostics)
        if c.succeeded, let g = c.graph {
            guard errors.isEmpty else { return "mutant \(n) succeeded with errors" }
            guard g.output != nil else { return "mutant \(n) succeeded without an output" }
            do {
                let s = try Summary(g)
                _ = ParamsReport.table(s, depth: 3)
                _ = ParamsReport.json(s, depth: Int.max)
                _ = ParamsReport.names(g)
                // The picture (`archc graph`): the diagram, its layout and the SVG.
                _ = SVGWriter.write(DiagramBuilder.build(g, moduleParams: s.rows.map(\.params), totalParams: s.params, depth: 1 + n % 4), depth: 3)
                progress.with { $0.succeeded += 1 }
            } catch {
                return "mutant \(n): Summary threw \(error)"
            }
            // The executable IR: lowering may refuse (a size left unbound), but the verifier must
            // accept what every pass makes.
            let program: Program
            do { program = try Passes.run(g) } catch let e as ToolError where !e.message.hasPrefix("internal error") {
                return nil
            } catch {
                return "mutant \(n): the passes failed: \(error)\n\(String(decoding: bytes, as: UTF8.self))"
            }
            // Small networks also run, on initialised weights and zero inputs: a runtime error is fine,
            // a trap is not (it ends the test run, with the mutant in ARCHC_FUZZ_TRACE).
            if g.parameterCount <= 100_000, let macs = try? Summary(g).macs, macs <= 2_000_000, program.arenaCount <= 1 << 20 {
                let bound = WeightStore.bind(g, tensors: Initializer.tensors(for: g, seed: 1), file: "init")
                guard let store = bound.store else { return "mutant \(n): initialised weights do not bind: \(bound.errors)" }
                var inputs: [String: Tensor] = [:]
                for (name, v) in program.inputs { inputs[name] = Tensor(shape: program.values[v].shape, floats: [Float](repeating: 0, count: program.values[v].count)) }
                _ = try? Interpreter(program: program, weights: store).run(inputs)
                progress.with { $0.ran += 1 }
            }
            return nil
        }
        progress.with { $0.diagnosed += 1 }
        if errors.isEmpty { return "mutant \(n) failed without an error diagnostic" }
        if let bad = errors.first(where: { $0.message.trimmingCharacters(in: .whitespaces).isEmpty || $0.message.hasPrefix("internal error") }) {
            return "mutant \(n): bad diagnostic '\(bad.message)'\n\(DiagnosticRenderer.render(c.diagnostics.diagnostics))"
        }
        return nil
    }

    static func fuzz(_ cores: [[UInt8]], _ slices: [[UInt8]], _ library: [[UInt8]], _ progress: Progress) {
        let trace = ProcessInfo.processInfo.environment["ARCHC_FUZZ_TRACE"]
        for n in 0..<mutantCount {
            // One generator per mutant: mutant n is the same whatever the others did.
            var rng = Random(state: seed &+ UInt64(n) &* 0xD1B5_4A32_D192_ED03)
            let t0 = Date()
            var bytes = rng.chance(10) ? rng.pick(cores) : rng.pick(slices)
            let k = rng.below(10)
            for _ in 0..<(k < 6 ? 1 : k < 9 ? 2 : 3) { bytes = mutate(bytes, &rng, library: library) }
            let spent = Date().timeIntervalSince(t0)
            if progress.with({ p in
                p.current = n; p.started = Date(); p.mutant = bytes; p.mutating += spent
                return p.stop
            }) { return }
            if let trace { _ = FileManager.default.createFile(atPath: trace, contents: Data(bytes)) }
            if let f = check(bytes, n, progress) {
                progress.with { $0.failures.append(f + "\n--- mutant \(n) ---\n" + show(bytes)) }
            }
        }
    }

    func testMutatedSpecsEndInSuccessOrDiagnostics() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        let library = try files.map { [UInt8](try Data(contentsOf: Support.specs.appendingPathComponent($0))) }
        let cores = library.map(Self.core)
        let slices = cores.flatMap(Self.slices)
        XCTAssertGreaterThan(slices.count, 100)
        let cleanSlices = slices.filter { Pipeline.compile(SourceFile(path: "s.arch", bytes: $0), bindings: ["batch": 1, "seq": 16]).succeeded }.count
        print("slices: \(slices.count), clean \(cleanSlices)")
        let progress = Progress()
        let done = DispatchSemaphore(value: 0)
        let start = Date()
        let worker = Thread {
            Self.fuzz(cores, slices, library, progress)
            done.signal()
        }
        worker.stackSize = 8 << 20
        worker.start()
        var hung = false
        while done.wait(timeout: .now() + 0.25) == .timedOut {
            let (n, started, mutant) = progress.with { ($0.current, $0.started, $0.mutant) }
            if Date().timeIntervalSince(started) > Self.hangSeconds {
                XCTFail("mutant \(n) has run for more than \(Self.hangSeconds) s (a hang):\n\(Self.show(mutant))")
                progress.with { $0.stop = true }
                hung = true
                break
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let (ok, diagnosed, failures, mutating, ran) = progress.with { ($0.succeeded, $0.diagnosed, $0.failures, $0.mutating, $0.ran) }
        print("fuzz: \(ok + diagnosed) mutants in \(String(format: "%.2f", seconds)) s (\(String(format: "%.2f", mutating)) s mutating): \(ok) checked cleanly "
              + "(\(ran) of them run), \(diagnosed) ended in error diagnostics")
        for f in failures.prefix(20) { XCTFail(f) }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) mutants failed")
        if !hung {
            XCTAssertEqual(ok + diagnosed, Self.mutantCount)
            XCTAssertGreaterThan(ok, Self.mutantCount / 20, "some mutants should still check")
            XCTAssertGreaterThan(diagnosed, Self.mutantCount / 4, "most mutations should break the spec")
        }
    }
}
