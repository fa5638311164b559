import Foundation
import XCTest
@testable import ArchSemantics
@testable import ArchIR
@testable import ArchDriver
@testable import ArchIO
@testable import ArchRuntime
@testable import ArchKernels

/// The executable IR: every spec lowers, fuses and plans into a program the verifier accepts; the
/// fusions and the arena are what they should be; the verifier catches broken plans.
final class ProgramTests: XCTestCase {
    func program(_ spec: String, batch: Int = 1, through pass: String = PlanBuffers.name) throws -> Program {
        let text = try String(contentsOf: Support.specs.appendingPathComponent(spec + ".arch"), encoding: .utf8)
        let c = Support.compileSpec(spec + ".arch", bindings: text.contains("[seq") ? ["batch": batch, "seq": 32] : ["batch": batch])
        XCTAssertTrue(c.succeeded, Support.rendered(c))
        return try Passes.run(XCTUnwrap(c.graph), threads: 2, through: pass)
    }

    func testEverySpecPlansAtBatchOneAndFour() throws {
        let specs = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        XCTAssertEqual(specs.count, 24)
        for file in specs {
            for batch in [1, 4] {
                let p = try program(String(file.dropLast(5)), batch: batch)
                XCTAssertEqual(ProgramVerifier.verify(p), [], file)
                let everyValue = p.values.indices.filter { p.values[$0].buffer != nil }.reduce(0) { $0 + p.values[$1].count }
                XCTAssertLessThanOrEqual(p.arenaCount, everyValue + 16 * p.buffers.count, "\(file): the arena is never larger than no sharing")
            }
        }
    }

    func testResNet18FusesEveryBatchNormActivationAndResidual() throws {
        let lowered = try program("resnet18", through: Lower.name)
        let p = try program("resnet18")
        XCTAssertEqual(lowered.steps.count, 68)
        let convs = p.steps.compactMap { s -> ConvCall? in if case .conv(let c) = s.kind { return c } else { return nil } }
        // 20 convolutions, each with its batchnorm folded; 17 end in a ReLU; the 8 residual adds became the
        // epilogue of the block's last convolution (its second, or the shortcut's in the 3 downsampling blocks).
        XCTAssertEqual(convs.count, 20)
        XCTAssertEqual(p.steps.filter { $0.nodes.count > 1 }.count, 20)
        XCTAssertEqual(convs.filter { $0.activation == .relu }.count, 17)
        XCTAssertEqual(convs.filter { $0.residual != nil }.count, 8)
        XCTAssertEqual(p.steps.map(\.kind.name), ["conv", "pool"] + Array(repeating: "conv", count: 19) + ["adaptivePool", "linear"])
        // Winograd F(4x4, 3x3) for the 3x3 stride-1 convolutions on 56x56 and 28x28 maps (measured at 2 threads
        // at 0.33 and 0.36 of the GEMM's time, F(2x2, 3x3) at 0.65 and 0.63); not on 14x14 at batch 1, where its
        // filters (4 times the kernel) come from memory (ResNet-18's 46 MB of weights do not stay in a 32 MB
        // cache; `--tune` with cold weights: 1.05 ms against 0.77 with the positions as rows). GEMMs for the
        // rest: the strided 3x3s with the positions as rows (`--tune`: 0.77-0.83 of the channel-major GEMM's time;
        // on 7x7 maps, 49 positions fill 64 columns of its panels, 54 rows of 6); the strided 1x1 shortcuts to
        // 14x14 and 7x7 maps with the positions as rows of 7 (`--tune`: 0.7 and 0.45 of the time of the rows of 6
        // with their transposed write, 0.67 and 0.5 of the channel-major GEMM's), the first (56x56 -> 28x28, 64
        // channels in) by the channel-major GEMM.
        // The stem (K = 3 x 7 x 7 = 147) reads its taps in place from the phase planes.
        XCTAssertEqual(convs.map(\.algorithm.rawValue).joined(separator: " "),
                       "direct winograd4 winograd4 winograd4 winograd4 spatialGemm winograd4 gemm winograd4 winograd4 spatialGemm spatialGemm pointwiseRows"
                       + " spatialGemm spatialGemm spatialGemm spatialGemm pointwiseRows spatialGemm spatialGemm")
        // Every residual add writes in place over its residual (the block's input, or its body's output
        // where the shortcut's convolution adds it), which nothing reads afterwards.
        XCTAssertEqual(p.steps.filter { $0.storage == .inPlace }.count, 8)
    }

    /// Residual adds fuse into the step that computes their other operand: through the dropout
    /// between (`dropout 0.0`, a view of the same shape) into ViT's attention output projections
    /// and fc2s, and into Swin's window merges (the attention branch's last step) and fc2s. No add
    /// is left in either.
    func testResidualsFuseThroughDropoutViewsAndWindowMerges() throws {
        let vit = try program("vit_b16")
        let linears = vit.steps.compactMap { s -> LinearCall? in if case .linear(let l) = s.kind { return l } else { return nil } }
        XCTAssertEqual(linears.count, 12 * 4 + 2, "4 a block, the patch embedding and the head")
        XCTAssertEqual(linears.filter { $0.residual != nil }.count, 24)
        let swin = try program("swin_t")
        let merges = swin.steps.compactMap { s -> WindowMergeCall? in if case .windowMerge(let m) = s.kind { return m } else { return nil } }
        XCTAssertEqual(merges.count, 12)
        XCTAssertEqual(merges.filter { $0.residual != nil }.count, 12)
        XCTAssertEqual(swin.steps.filter { if case .linear(let l) = $0.kind { return l.residual != nil } else { return false } }.count, 12)
        for p in [vit, swin] {
            XCTAssertEqual(p.steps.filter { $0.kind.name == "binary" }.count, 0)
            XCTAssertEqual(ProgramVerifier.verify(p), [])
        }
    }

    /// MobileNetV2's 17 blocks each run as one fused inverted residual, at batch 1 and 8: the 1x1
    /// convolutions of a chain run as pointwise GEMMs, never the positions-as-rows GEMM the cost model
    /// prefers alone on 7x7 maps (which left the last block, 160 -> 960 -> 320, unfused).
    func testEveryMobileNetBlockIsFused() throws {
        for batch in [1, 8] {
            let p = try program("mobilenet_v2", batch: batch)
            XCTAssertEqual(p.steps.filter { $0.kind.name == "invertedResidual" }.count, 17, "batch \(batch)")
            let convs = p.steps.compactMap { s -> ConvCall? in if case .conv(let c) = s.kind { return c } else { return nil } }
            XCTAssertEqual(convs.map { $0.geometry.kernelH }, [3, 1], "batch \(batch): the stem and the last 1x1 stay apart")
        }
    }

    func testViewsAndInPlaceStepsShareTheRightBuffer() throws {
        let p = try program("alexnet")
        for s in p.steps where s.storage != .fresh {
            let shared = s.storage == .view ? s.reads[0] : s.kind.overwritable!
            XCTAssertEqual(p.values[s.output].buffer, p.values[shared].buffer, s.kind.name)
        }
        XCTAssertTrue(p.steps.contains { $0.kind.name == "view" && $0.storage == .view })
    }

    /// Scratch memory is a buffer of the arena alive only during its step.
    func testScratchIsPlannedInTheArena() throws {
        let p = try program("swin_t")
        let scratch = p.steps.enumerated().compactMap { i, s in s.scratch.map { (i, $0) } }
        XCTAssertFalse(scratch.isEmpty)
        for (i, v) in scratch {
            let b = try XCTUnwrap(p.values[v].buffer)
            XCTAssertEqual(p.buffers[b].firstStep, i)
            XCTAssertEqual(p.buffers[b].lastStep, i)
        }
    }

    /// The cost model reads Winograd F(4x4, 3x3)'s filters, 4 times the kernel, once a batch: from
    /// memory where the network's weights outgrow the cache (`coldWeights`), so at batch 1 a 14x14 map
    /// takes the positions-as-rows GEMM, while at batch 8, or with the weights in cache, Winograd wins.
    func testWinogradFiltersFromMemoryDecideSmallMapsAtBatchOne() {
        let g = ConvGeometry(inChannels: 256, outChannels: 256, groups: 1, inH: 14, inW: 14, outH: 14, outW: 14, kernelH: 3, kernelW: 3,
                             strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1)
        var model = CostModel()
        XCTAssertEqual(model.convolution(g, batch: 1, threads: 2).algorithm, .winograd4)
        model.coldWeights = true
        XCTAssertEqual(model.convolution(g, batch: 1, threads: 2).algorithm, .spatialGemm)
        XCTAssertEqual(model.convolution(g, batch: 8, threads: 2).algorithm, .winograd4)
        // (The schedule sets it from the network's weights: testResNet18FusesEveryBatchNormActivationAndResidual.)
    }

    /// The positions-as-rows GEMMs write their output transposed: past a core's L2 (ResNet-50's 1x1s
    /// at batch 8 on 28x28 maps, 12.8 MB out) that write goes to memory a few floats a line and the
    /// channel-major GEMM wins; on 7x7 maps the rows of 7 keep their lead.
    func testTransposedWriteOutDecidesLargeOutputs() {
        func conv(_ cin: Int, _ cout: Int, _ size: Int, stride: Int) -> ConvGeometry {
            ConvGeometry(inChannels: cin, outChannels: cout, groups: 1, inH: size, inW: size, outH: size / stride, outW: size / stride,
                         kernelH: 1, kernelW: 1, strideH: stride, strideW: stride, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1)
        }
        let model = CostModel()
        XCTAssertEqual(model.convolution(conv(256, 512, 28, stride: 1), batch: 8, threads: 2).algorithm, .pointwise)
        XCTAssertEqual(model.convolution(conv(256, 512, 56, stride: 2), batch: 8, threads: 2).algorithm, .gemm)
        XCTAssertEqual(model.convolution(conv(2048, 512, 7, stride: 1), batch: 8, threads: 2).algorithm, .pointwiseRows)
        XCTAssertEqual(model.convolution(conv(1024, 2048, 14, stride: 2), batch: 1, threads: 2).algorithm, .pointwiseRows)
    }

    /// `--tune`: every algorithm that applies is timed once, the fastest kept and cached under a key
    /// that says whether the weights were cold; a second run reads the choice back without timing,
    /// and a cold-weights choice is not taken for warm weights.
    func testTuningTimesEveryCandidateOnceAndCachesTheChoice() throws {
        let g = ConvGeometry(inChannels: 8, outChannels: 16, groups: 1, inH: 12, inW: 12, outH: 12, outW: 12, kernelH: 3, kernelW: 3,
                             strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("archc-tuning-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = Tuning(path: path)
        let chosen = first.convolution(g, batch: 2, threads: 1, coldWeights: true)
        let times = try XCTUnwrap(first.measured[first.key(g, batch: 2, threads: 1, coldWeights: true)])
        XCTAssertEqual(Set(times.map(\.0)), Set(ConvAlgorithm.allCases.filter { $0.applies(to: g) }))
        XCTAssertEqual(times.min { $0.1 < $1.1 }?.0, chosen)
        XCTAssertTrue(times.allSatisfy { $0.1 > 0 })
        first.save()
        let second = Tuning(path: path)
        XCTAssertEqual(second.convolution(g, batch: 2, threads: 1, coldWeights: true), chosen)
        XCTAssertTrue(second.measured.isEmpty, "a cached choice is not timed again")
        _ = second.convolution(g, batch: 2, threads: 1, coldWeights: false)
        XCTAssertEqual(second.measured.count, 1, "warm weights are timed apart from cold")
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
        // A convolution whose weights are not prepared for its algorithm.
        var r = try program("resnet18")
        let i = try XCTUnwrap(r.steps.firstIndex { if case .conv(let c) = $0.kind { return c.algorithm == .winograd4 } else { return false } })
        guard case .conv(var c) = r.steps[i].kind else { return XCTFail() }
        c.algorithm = .gemm
        r.steps[i].kind = .conv(c)
        XCTAssertTrue(ProgramVerifier.verify(r).contains { $0.contains("not prepared for gemm") }, "\(ProgramVerifier.verify(r))")
    }

    func testUnboundSizeIsAnErrorWithAFix() throws {
        let c = Pipeline.compile(path: Support.specs.appendingPathComponent("resnet18.arch").path, bindings: [:])
        XCTAssertThrowsError(try Passes.run(XCTUnwrap(c.graph), threads: 2)) { e in
            XCTAssertEqual("\(e)", "error: the size batch of input 'image' is not bound\nnote: bind it with --set batch=N, or from an input file's shape")
        }
    }

    /// `archc ir` after each pass, for a small network, against Fixtures/ir/resnet_small_PASS.txt
    /// (`ARCHC_RECORD=1` re-records them).
    func testIRDumpSnapshots() throws {
        let record = ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1"
        let spec = Support.fixtures.appendingPathComponent("numerics/resnet_small/model.arch").path
        for pass in ["check"] + Passes.names {
            let r = Support.run("ir", spec, "--after", pass, "--threads", "2")
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
        XCTAssertEqual(ran.count, 18, "\(ran)")
    }
}
