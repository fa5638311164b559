import XCTest
@testable import ArchSemantics
@testable import ArchIR
@testable import ArchRuntime
@testable import ArchCodegen
@testable import ArchDriver
@testable import ArchIO

/// `weights conv1d`: weight matrices stored [in, out] as transformers' Conv1D stores GPT-2's, on
/// linear, mlp and attention: the declared shapes, the same counts, the numbers of the same layer
/// with nn.Linear's [out, in] weights, the pack that reads them in place, init and emit torch.
final class WeightLayoutTests: XCTestCase {
    static let tokens = "input x 10x32\n"

    func testShapesAreInOutAndCountsUnchanged() throws {
        let linear = try XCTUnwrap(Compiled.of(Self.tokens + "l: linear 48 weights conv1d"))
        XCTAssertEqual(linear.params, ["l.weight [32, 48]", "l.bias [48]"])
        let mlp = try XCTUnwrap(Compiled.of(Self.tokens + "mlp: mlp 64 act gelu_tanh names c_fc c_proj weights conv1d"))
        XCTAssertEqual(mlp.params, ["mlp.c_fc.weight [32, 64]", "mlp.c_fc.bias [64]", "mlp.c_proj.weight [64, 32]", "mlp.c_proj.bias [32]"])
        let plain = try XCTUnwrap(Compiled.of(Self.tokens + "mlp: mlp 64 act gelu_tanh"))
        XCTAssertEqual([mlp.count, mlp.macs, mlp.other], [plain.count, plain.macs, plain.other])
        let gpt = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 causal qkv packed names c_attn c_proj weights conv1d"))
        XCTAssertEqual(gpt.params, ["attn.c_attn.weight [32, 96]", "attn.c_attn.bias [96]", "attn.c_proj.weight [32, 32]", "attn.c_proj.bias [32]"])
        let gqa = try XCTUnwrap(Compiled.of(Self.tokens + "a: attention heads 4 kvheads 2 dim 16 out 24 qkv separate bias off weights conv1d"))
        XCTAssertEqual(gqa.params, ["a.q_proj.weight [32, 16]", "a.k_proj.weight [32, 8]", "a.v_proj.weight [32, 8]", "a.out_proj.weight [16, 24]"])
        XCTAssertEqual(Compiled.of(Self.tokens + "a: attention heads 4 weights linear")?.params,
                       Compiled.of(Self.tokens + "a: attention heads 4")?.params, "linear is the default")
    }

    func testTiesAndErrors() throws {
        // A tied weight is shared as stored: a Conv1D head 32 -> 48 shares w's [32, 48]; nn.Linear's [48, 32] does not fit.
        let layers = Self.tokens + "w: linear 48 bias off weights conv1d\nl: linear 32 weights conv1d\n"
        let tied = try XCTUnwrap(Compiled.of(layers + "head: linear 48 bias off tied w weights conv1d"))
        XCTAssertEqual(tied.params, ["w.weight [32, 48]", "l.weight [48, 32]", "l.bias [32]"])
        XCTAssertEqual(Compiled.errors(layers + "head: linear 48 bias off tied w").first, "cannot tie this weight [48, 32] to 'w'")
        XCTAssertEqual(Compiled.errors(Self.tokens + "mlp 64 names a b c").first, "mlp has 2 projections (fc1, fc2), but 'names' lists 3")
        XCTAssertEqual(Compiled.errors(Self.tokens + "mlp 64 names a a").first, "'names' lists 'a' twice; each projection needs its own name")
        XCTAssertEqual(Compiled.errors(Self.tokens + "linear 8 weights conv2d").first, "'conv2d' is not a valid weights for 'linear'; did you mean 'conv1d'?")
        XCTAssertEqual(Compiled.errors("input x 8x8x32\nattention heads 4 window 4 weights conv1d").first, "window attention does not take 'weights'")
    }

    /// Every projection of every layout (self, cross with fused rows split between two tensors, q_kv from
    /// another tensor), an MLP and a linear layer: their weights transposed and read as conv1d give the
    /// outputs of the [out, in] layers.
    func testConvOneDComputesWhatLinearComputes() throws {
        let body = """
        input x 6x16
        input mem 4x16
        a: attention heads 4 causal qkv packed WEIGHTS
        s: attention heads 2 kvheads 1 qkv separate rope half WEIGHTS
        f: attention heads 4 qkv fused memory mem WEIGHTS
        q: attention heads 2 qkv q_kv queries a WEIGHTS
        m: mlp 24 act gelu_tanh names c_fc c_proj WEIGHTS
        l: linear 5 WEIGHTS
        """
        func graph(_ weights: String) throws -> Graph {
            let c = Support.compile(body.replacingOccurrences(of: "WEIGHTS", with: weights), bindings: ["batch": 2])
            return try XCTUnwrap(c.graph, Support.rendered(c))
        }
        let (linear, conv) = (try graph(""), try graph("weights conv1d"))
        let tensors = Initializer.tensors(for: linear, seed: 5)
        // Every weight matrix transposed (nn.MultiheadAttention's in_proj_weight too), biases and norms as they are.
        let transposed = tensors.map { t -> (name: String, tensor: Tensor) in
            let s = t.tensor.shape
            guard s.count == 2, t.name.hasSuffix("weight") else { return t }
            let (r, c) = (s[0], s[1]), f = t.tensor.floats
            return (t.name, Tensor(shape: [c, r], floats: (0..<(r * c)).map { f[($0 % r) * c + $0 / r] }))
        }
        var rng = SplitMix64(seed: 9)
        let inputs = ["x": Tensor(shape: [2, 6, 16], floats: (0..<192).map { _ in Float(rng.normal()) }),
                      "mem": Tensor(shape: [2, 4, 16], floats: (0..<128).map { _ in Float(rng.normal()) })]
        let a = try XCTUnwrap(WeightStore.bind(linear, tensors: tensors, file: "w").store)
        let b = WeightStore.bind(conv, tensors: transposed, file: "w")
        XCTAssertEqual(b.errors.map(\.description), [])
        let ya = try Interpreter(graph: linear, weights: a).run(inputs), yb = try Interpreter(graph: conv, weights: XCTUnwrap(b.store)).run(inputs)
        XCTAssertEqual(ya.shape, [2, 6, 5])
        XCTAssertLessThanOrEqual(largestDifference(ya.floats, yb.floats), 1e-5)
    }

    /// The prepare pass packs the weight as stored (one recipe, no transposed copy); projections held
    /// in several [in, out] tensors are joined by columns first, as [out, in] ones are by rows.
    func testPrepareReadsTheStoredOrder() throws {
        let spec = Self.tokens + "a: attention heads 4 qkv separate weights conv1d\nl: linear 6 weights conv1d\n"
        let ir = ProgramPrinter.print(try Passes.run(try XCTUnwrap(Support.compile(spec, bindings: ["batch": 1]).graph), threads: 1))
        XCTAssertTrue(ir.contains("c7 = columns(c1[0..<32 of 32], c3[0..<32 of 32], c5[0..<32 of 32], 32 rows) : 3072 floats  # a.q_proj|k_proj|v_proj.weight"), ir)
        XCTAssertTrue(ir.contains("c12 = linearWeights(c7, 96x32 from [in, out])"), ir)
        XCTAssertTrue(ir.contains("c14 = linearWeights(c10, 6x32 from [in, out]) : 1024 floats  # l.weight (packed)"), ir)
        XCTAssertTrue(ir.contains("weightOrder inOut"), ir)
        let plain = ProgramPrinter.print(try Passes.run(try XCTUnwrap(Support.compile(Self.tokens + "l: linear 6", bindings: ["batch": 1]).graph), threads: 1))
        XCTAssertFalse(plain.contains("weightOrder"), "nn.Linear's order is not printed")
    }

    /// init draws a Conv1D weight [in, out] in +-1/sqrt(in), as nn.Linear's [out, in].
    func testInitUsesTheInputWidthAsFanIn() throws {
        let g = try XCTUnwrap(Compiled.of("input x 400\nl: linear 4 weights conv1d")).graph
        let t = Initializer.tensors(for: g, seed: 1)
        XCTAssertEqual(t.map(\.tensor.shape), [[400, 4], [4]])
        let (w, b) = (t[0].tensor.floats.map(abs).max()!, t[1].tensor.floats.map(abs).max()!)
        XCTAssertLessThanOrEqual(max(w, b), 1 / Float(20))
        XCTAssertGreaterThan(w, 0.99 / Float(20), "uniform over the whole +-1/sqrt(in) range")
    }

    func testEmitTorchHoldsTheWeightAsStored() throws {
        let g = try XCTUnwrap(Compiled.of(Self.tokens + "w: linear 48 bias off weights conv1d\nl: linear 32 weights conv1d\n"
                                          + "head: linear 48 bias off tied w weights conv1d\n"
                                          + "a: attention heads 4 qkv packed names c_attn c_proj weights conv1d\nm: mlp 64 weights conv1d")).graph
        let py = try TorchEmitter.emit(g)
        XCTAssertTrue(py.contains("self.w = Conv1D(32, 48, bias=False)\n        self.l = Conv1D(48, 32)\n"), py)
        XCTAssertTrue(py.contains("F.linear(h, self.w.weight.t())"), py)
        XCTAssertTrue(py.contains(#"self.a = Attention(48, 4, projections=(("c_attn", "qkv"),), output="c_proj", conv1d=True)"#), py)
        XCTAssertTrue(py.contains("self.m = Mlp(48, 64, 48, conv1d=True)"), py)
        XCTAssertTrue(py.contains("class Conv1D(nn.Module):"))
    }
}
