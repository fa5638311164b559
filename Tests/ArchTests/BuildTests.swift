import Foundation
import XCTest
@testable import ArchDriver
@testable import ArchIO
@testable import ArchIR
@testable import ArchKernels
@testable import ArchRuntime
@testable import ArchSemantics

/// `archc build` end to end: programs built from the op-coverage fixtures (between them every kind
/// of kernel call) are compiled by swiftc, run on PyTorch's inputs, and must match PyTorch's outputs
/// and the interpreter's. Names from the spec cannot inject code; failures leave nothing behind.
final class BuildTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-build-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let coverage = ["ops_conv_small", "ops_tokens_small", "ops_transformer_small", "ops_window_small", "ops_recurrent_small",
                           "mobilenet_small", "ops_attention_small", "ops_dataflow_small"]

    /// The fixtures above lower to every kind of kernel call, so each is compiled and run at least once.
    func testTheBuiltFixturesCoverEveryKernel() throws {
        var kinds = Set<String>()
        for name in Self.coverage { for s in try fixture(name).program.steps { kinds.insert(s.kind.name) } }
        // KernelCall has 34 cases: a new kernel fails here until a built fixture runs it.
        XCTAssertEqual(kinds.count, 34, "\(kinds.sorted())")
    }

    func testConvolutionsPoolsAndResampling() throws { try buildAndCompare("ops_conv_small") }
    func testTokenOpsAttentionLayoutsAndExperts() throws { try buildAndCompare("ops_tokens_small") }
    func testTransformerBlocksAndCrossAttention() throws { try buildAndCompare("ops_transformer_small") }
    func testWindowsAndPatchMerging() throws { try buildAndCompare("ops_window_small") }
    func testMobileNetsFusedInvertedResiduals() throws { try buildAndCompare("mobilenet_small") }
    func testRotaryGroupedHeadsMasksAndLayouts() throws { try buildAndCompare("ops_attention_small") }
    /// transformers' GPT-2 checkpoint as save_pretrained writes it: Conv1D weights packed as stored, the tied head.
    func testGPT2CheckpointWithConvOneDWeights() throws { try buildAndCompare("gpt2_small") }
    func testDataflowReductionsSlicesAndBlocks() throws { try buildAndCompare("ops_dataflow_small") }

    /// Spec text with quotes, backslashes, `\"\"\"`, `#`, control characters and Swift keywords in its
    /// path, comments and names: the built program compiles and runs (nothing reached the source unescaped).
    func testHostileNamesCannotInjectCode() throws {
        let hostile = dir.appendingPathComponent("we\"ird \\ na\"\"\"me\u{1B}#.arch")
        let source = try String(contentsOf: Support.fixtures.appendingPathComponent("numerics/ops_recurrent_small/model.arch"), encoding: .utf8)
        let evil = "# \"\"\"); fatalError(\"injected\") /* \\u{0022} */ #\"\n# \u{7}\u{1B}[31m\r\n"
        try (evil + source.replacingOccurrences(of: "\n", with: "  # \"\\\"\"\" ); exit(3) //\n")).write(to: hostile, atomically: true, encoding: .utf8)
        try buildAndCompare("ops_recurrent_small", spec: hostile.path)
    }

    /// A failed compile (a missing compiler here) is reported and leaves no output file behind.
    func testFailedBuildLeavesNothingBehind() throws {
        let out = dir.appendingPathComponent("prog")
        setenv("SWIFTC", "/nonexistent/swiftc", 1)
        defer { unsetenv("SWIFTC") }
        let r = Support.run("build", Support.fixtures.appendingPathComponent("numerics/mlp_small/model.arch").path, "-o", out.path)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("error: SWIFTC is '/nonexistent/swiftc', which is not an executable file"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    /// `--package`: a SwiftPM package that builds on its own (no dependencies) and whose example runs
    /// the network as the interpreter does; building it again in the same folder replaces it.
    func testPackageBuildsAndItsExampleRuns() throws {
        let f = try fixture("mlp_small")
        let folder = Support.fixtures.appendingPathComponent("numerics/mlp_small")
        let package = dir.appendingPathComponent("MlpSmall")
        let sets = f.bindings.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        for _ in 0..<2 {
            let r = Driver.run(["build", f.spec, "--package", package.path, "--name", "MlpSmall"] + sets)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: package.appendingPathComponent("README.md").path))
        let manifest = try String(contentsOf: package.appendingPathComponent("Package.swift"), encoding: .utf8)
        XCTAssertFalse(manifest.contains(".package("), "the package has no dependencies")
        let swift = try XCTUnwrap(ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map { "\($0)/swift" }
            .first { FileManager.default.isExecutableFile(atPath: $0) })
        let weights = folder.appendingPathComponent("weights.safetensors").path
        let run = try execute(swift, ["run", "-c", "release", "--package-path", package.path, "MlpSmallExample", weights, f.inputs[0].path])
        XCTAssertEqual(run.status, 0, run.output)
        // "output [2, 10] in N ms; first values: [a, b, ...]"
        let line = try XCTUnwrap(run.output.split(separator: "\n").last { $0.hasPrefix("output ") })
        let printed = line.split(separator: "[").last!.dropLast().split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        let ref = try NPY.read(path: folder.appendingPathComponent("output.npy").path).floats
        XCTAssertEqual(printed.count, 5, String(line))
        for (a, b) in zip(printed, ref) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
        // A folder archc did not make is never replaced.
        let other = dir.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: other.appendingPathComponent("notes.txt"))
        let refused = Driver.run(["build", f.spec, "--package", other.path] + sets)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("exists and is not a package archc made"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.path), ["notes.txt"])
    }

    // MARK: helpers

    struct Fixture {
        var spec: String, bindings: [String: Int], inputs: [(name: String, path: String)], program: Program, graph: Graph
    }

    func fixture(_ name: String, spec: String? = nil) throws -> Fixture {
        let folder = Support.fixtures.appendingPathComponent("numerics/\(name)")
        let specPath = spec ?? folder.appendingPathComponent("model.arch").path
        let declared = try XCTUnwrap(Pipeline.compile(path: specPath, bindings: [:]).graph, Support.rendered(Pipeline.compile(path: specPath, bindings: [:])))
        var tensors = [declared.inputs[0].name: try NPY.read(path: folder.appendingPathComponent("input.npy").path)]
        var inputs = [(declared.inputs[0].name, folder.appendingPathComponent("input.npy").path)]
        for (n, _) in declared.inputs.dropFirst() {
            let path = folder.appendingPathComponent("\(n).npy").path
            tensors[n] = try NPY.read(path: path)
            inputs.append((n, path))
        }
        let bindings = try InputBinding.bindings(for: declared, inputs: tensors)
        let graph = try XCTUnwrap(Pipeline.compile(path: specPath, bindings: bindings).graph)
        return Fixture(spec: specPath, bindings: bindings, inputs: inputs, program: try Passes.run(graph, threads: 2), graph: graph)
    }

    func buildAndCompare(_ name: String, spec: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try fixture(name, spec: spec)
        let folder = Support.fixtures.appendingPathComponent("numerics/\(name)")
        let program = dir.appendingPathComponent("prog").path
        let sets = f.bindings.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let built = Driver.run(["build", f.spec, "-o", program, "--threads", "2"] + sets)
        XCTAssertEqual(built.status, 0, built.stderr, file: file, line: line)
        let weights = folder.appendingPathComponent("weights.safetensors").path
        let output = dir.appendingPathComponent("built.npy").path
        let run = try execute(program, ["--weights", weights, "--output", output] + f.inputs.flatMap { ["--input", "\($0.name)=\($0.path)"] })
        XCTAssertEqual(run.status, 0, run.output, file: file, line: line)
        // Against PyTorch, and against the interpreter (the same kernels: equal to float rounding).
        let ref = try NPY.read(path: folder.appendingPathComponent("output.npy").path), y = try NPY.read(path: output)
        XCTAssertEqual(y.shape, ref.shape, file: file, line: line)
        let scale = max(1, ref.floats.map(abs).max() ?? 0)
        let worst = largestDifference(ref.floats, y.floats)
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(name): max |built - PyTorch| \(worst)", file: file, line: line)
        var tensors: [String: Tensor] = [:]
        for (n, p) in f.inputs { tensors[n] = try NPY.read(path: p) }
        let store = try XCTUnwrap(WeightStore.bind(f.graph, tensors: try SafeTensors.read(path: weights), file: weights).store)
        let interpreted = try Interpreter(program: f.program, weights: store).run(tensors)
        let apart = largestDifference(interpreted.floats, y.floats)
        XCTAssertLessThanOrEqual(apart, 1e-5 * scale, "\(name): max |built - interpreter| \(apart)", file: file, line: line)
    }

    /// Runs an executable; its exit status and everything it printed.
    func execute(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
