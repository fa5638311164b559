import Foundation
import XCTest
@testable import ArchSemantics
@testable import ArchIR
@testable import ArchDriver
@testable import ArchIO
@testable import ArchRuntime

/// The executable IR: every spec lowers, fuses and plans into a program the verifier accepts; the
/// fusions and the arena are what they should be; the verifier catches broken plans.
final class ProgramTests: XCTestCase {
    func program(_ spec: String, batch: Int = 1, through pass: String = PlanBuffers.name) throws -> Program {
        let text = try String(contentsOf: Support.specs.appendingPathComponent(spec + ".arch"), encoding: .utf8)
        let c = Support.compileSpec(spec + ".arch", bindings: text.contains("[seq") ? ["batch": batch, "seq": 32] : ["batch": batch])
        XCTAssertTrue(c.succeeded, Support.rendered(c))
        return try Passes.run(XCTUnwrap(c.graph), through: pass)
    }

    func testEverySpecPlansAtBatchOneAndFour() throws {
        let specs = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        XCTAssertEqual(specs.count, 19)
        for file in specs {
            for batch in [1, 4] {
                let p = try program(String(file.dropLast(5)), batch: batch)
                XCTAssertEqual(ProgramVerifier.verify(p), [], file)
                let everyValue = p.values.indices.filter { p.values[$0].buffer != nil }.reduce(0) { $0 + p.values[$1].count }
                XCTAssertLessThanOrEqual(p.arenaCount, everyValue + 16 * p.buffers.count, "\(file): the arena is never larger than no sharing")
            }
        }
    }

    func testResNet18FoldsEveryBatchNormAndReusesMemory() throws {
        let lowered = try program("resnet18", through: Lower.name)
        let p = try program("resnet18")
        XCTAssertEqual(lowered.steps.count, 68)
        // 20 convolutions absorb their batchnorm; 9 of them and all 8 residual adds absorb a ReLU.
        XCTAssertEqual(p.steps.filter { $0.op == "conv" && $0.fused.first == .batchnorm(node: $0.node + 1) }.count, 20)
        XCTAssertEqual(p.steps.filter { $0.op == "conv" && $0.fused.last == .activation("relu") }.count, 9)
        XCTAssertEqual(p.steps.filter { $0.op == "add" && $0.fused == [.activation("relu")] && $0.storage == .inPlace }.count, 8)
        XCTAssertEqual(p.steps.count, 31)
        // The largest activation is conv1's [64, 112, 112]; the plan needs it, the input and the
        // max-pooled map at once, and nothing more.
        XCTAssertEqual(p.arenaCount, 64 * 112 * 112 + 3 * 224 * 224 + 64 * 56 * 56 - 3 * 224 * 224)
    }

    func testViewsAndInPlaceStepsShareTheirInputsBuffer() throws {
        let p = try program("alexnet")
        for s in p.steps where s.storage != .fresh {
            XCTAssertEqual(p.values[s.output].buffer, p.values[s.inputs[0]].buffer, "\(s.op)")
        }
        XCTAssertTrue(p.steps.contains { $0.op == "flatten" && $0.storage == .view })
    }

    func testVerifierCatchesBrokenPlans() throws {
        var p = try program("resnet18")
        // Two buffers alive at once put on the same bytes.
        let (a, b) = (1, 2)
        XCTAssertTrue(p.buffers[a].firstStep <= p.buffers[b].lastStep && p.buffers[b].firstStep <= p.buffers[a].lastStep)
        p.buffers[b].offset = p.buffers[a].offset
        XCTAssertTrue(ProgramVerifier.verify(p).contains { $0.contains("overlap") }, "\(ProgramVerifier.verify(p))")
        // A step that reads a value before anything writes it.
        var q = try program("resnet18", through: Lower.name)
        q.steps.swapAt(1, 2)
        XCTAssertTrue(ProgramVerifier.verify(q).contains { $0.contains("before it is written") })
        // An in-place step whose input is read again later.
        var r = try program("resnet18")
        let i = try XCTUnwrap(r.steps.firstIndex { $0.op == "add" })
        r.steps[i].inputs = [r.steps[i].inputs[1], r.steps[i].inputs[0]]
        XCTAssertFalse(ProgramVerifier.verify(r).isEmpty)
    }

    func testUnboundSizeIsAnErrorWithAFix() throws {
        let c = Pipeline.compile(path: Support.specs.appendingPathComponent("resnet18.arch").path, bindings: [:])
        XCTAssertThrowsError(try Passes.run(XCTUnwrap(c.graph))) { e in
            XCTAssertEqual("\(e)", "error: the size batch of input 'image' is not bound\nnote: bind it with --set batch=N, or from an input file's shape")
        }
    }

    /// `archc ir` after each pass, for a small network, against Fixtures/ir/resnet_small_PASS.txt
    /// (`ARCHC_RECORD=1` re-records them).
    func testIRDumpSnapshots() throws {
        let record = ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1"
        let spec = Support.fixtures.appendingPathComponent("numerics/resnet_small/model.arch").path
        for pass in ["check"] + Passes.names {
            let r = Support.run("ir", spec, "--after", pass)
            XCTAssertEqual(r.status, 0, r.stderr)
            let url = Support.fixtures.appendingPathComponent("ir/resnet_small_\(pass).txt")
            if record { try r.stdout.write(to: url, atomically: true, encoding: .utf8); continue }
            let expected = try String(contentsOf: url, encoding: .utf8)
            XCTAssertEqual(r.stdout, expected, "archc ir --after \(pass) changed: \(DiagnosticSnapshotTests.firstDifference(r.stdout, expected))")
        }
        XCTAssertFalse(record, "snapshots recorded; review the diff and run again without ARCHC_RECORD")
    }
}

/// Every spec of the library runs in the interpreter, on `archc init`'s weights and a random input,
/// at batch 2 (and 16 tokens where the length is free): the output has the declared shape and is
/// finite. Specs over 30M parameters are left to `tools/run_every_spec.sh` (initialising them in a
/// debug build takes too long for CI).
final class EverySpecRunsTests: XCTestCase {
    func testEverySpecRuns() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        var ran: [String] = []
        for f in files {
            let c = Support.compileSpec(f, bindings: ["batch": 2, "seq": 16])
            let g = try XCTUnwrap(c.graph, f)
            guard g.parameterCount <= 30_000_000 else { continue }
            var rng = SplitMix64(seed: 7)
            var inputs: [String: Tensor] = [:]
            for (name, v) in g.inputs {
                let shape = g.values[v].shape.map { $0.value! }
                let count = shape.reduce(1, *)
                // Token ids below the smallest vocabulary any embedding has; images and features in [-1, 1).
                let isTokens = g.values[v].kind == .int
                inputs[name] = Tensor(shape: shape, floats: (0..<count).map { _ in isTokens ? Float(rng.next() % 100) : Float(rng.uniform() * 2 - 1) })
            }
            let weights = Initializer.tensors(for: g, seed: 1)
            let bound = WeightStore.bind(g, tensors: weights, file: "init")
            let y = try Interpreter(graph: g, weights: XCTUnwrap(bound.store, f)).run(inputs)
            XCTAssertEqual(y.shape, g.values[g.output!].shape.map { $0.value! }, f)
            XCTAssertTrue(y.floats.allSatisfy(\.isFinite), "\(f): non-finite outputs")
            XCTAssertGreaterThan(y.floats.map(abs).max() ?? 0, 0, "\(f): an all-zero output")
            ran.append(f)
        }
        XCTAssertEqual(ran.count, 14, "\(ran)")
    }
}
