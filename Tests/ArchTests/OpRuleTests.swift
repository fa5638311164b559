import XCTest
@testable import ArchSemantics
@testable import ArchDriver

/// Each op's shape rule, parameter formula and MAC formula on small inputs, with values derived by
/// hand from PyTorch's definitions.
final class OpRuleTests: XCTestCase {
    struct Result {
        let shape: String
        let params: [String: [Int]]
        let count: Int
        let macs: Int?
    }

    /// Compiles `input` + `layers` (batch 1 unless bound) and returns the output shape and counts.
    func run(_ input: String, _ layers: String, bindings: [String: Int] = ["batch": 1], file: StaticString = #filePath, line: UInt = #line) -> Result? {
        let c = Support.compile("input \(input)\n\(layers)\n", bindings: bindings)
        guard c.succeeded, let g = c.graph, let s = try? Summary(g) else {
            XCTFail(Support.rendered(c), file: file, line: line)
            return nil
        }
        return Result(shape: describe(g.values[g.output!].shape),
                      params: Dictionary(g.params.filter { !$0.isBuffer }.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a }),
                      count: s.params, macs: s.macs)
    }

    func error(_ input: String, _ layers: String) -> String {
        Support.compile("input \(input)\n\(layers)\n", bindings: ["batch": 1]).diagnostics.diagnostics.first?.message ?? "no error"
    }

    func testLinearAndEmbedding() {
        let r = run("x [4, 32]", "fc: linear 10")
        XCTAssertEqual(r?.shape, "[1, 4, 10]")
        XCTAssertEqual(r?.params, ["fc.weight": [10, 32], "fc.bias": [10]])
        XCTAssertEqual(r?.macs, 4 * 32 * 10)
        XCTAssertEqual(run("ids [7] tokens", "e: embed 100 16")?.shape, "[1, 7, 16]")
        XCTAssertEqual(run("ids [7] tokens", "e: embed 100 16")?.macs, 0)
        XCTAssertEqual(run("x 8", "linear 4 bias off")?.count, 32)
    }

    func testConvolutions() {
        // floor((32 + 2*1 - 1*(3-1) - 1) / 2) + 1 = 16
        let c = run("image 3x32x32", "conv 3 8 stride 2 pad 1")
        XCTAssertEqual(c?.shape, "[1, 8, 16, 16]")
        XCTAssertEqual(c?.count, 8 * 3 * 9 + 8)
        XCTAssertEqual(c?.macs, 8 * 16 * 16 * 3 * 9)
        // dilation 2, kernel 3: span 5 -> 32 - 4 = 28
        XCTAssertEqual(run("image 3x32x32", "conv 3 8 dilation 2")?.shape, "[1, 8, 28, 28]")
        XCTAssertEqual(run("image 4x10x12", "conv 3x5 6 groups 2")?.params["0.weight"], [6, 2, 3, 5])
        XCTAssertEqual(run("image 4x10x12", "conv 3x5 6 groups 2")?.shape, "[1, 6, 8, 8]")
        let dw = run("image 16x8x8", "conv 3 16 groups depthwise pad same bias off")
        XCTAssertEqual(dw?.shape, "[1, 16, 8, 8]")
        XCTAssertEqual(dw?.count, 16 * 9)
        XCTAssertEqual(run("seq 4x100", "conv 5 8 stride 2")?.shape, "[1, 8, 48]")  // conv1d
        // convt: (8 - 1) * 2 - 2*1 + 1*(4-1) + 1 + 1 = 17
        let t = run("image 8x8x8", "convt 4 3 stride 2 pad 1 outpad 1")
        XCTAssertEqual(t?.shape, "[1, 3, 17, 17]")
        XCTAssertEqual(t?.params["0.weight"], [8, 3, 4, 4])
        XCTAssertEqual(t?.macs, 8 * 8 * 8 * 3 * 16)
        XCTAssertEqual(error("image 3x32x32", "conv 3 8 stride 2 pad same"), "pad same needs stride 1")
    }

    func testPoolingAndResampling() {
        XCTAssertEqual(run("image 3x7x7", "maxpool 2")?.shape, "[1, 3, 3, 3]")
        XCTAssertEqual(run("image 3x7x7", "maxpool 2 ceil")?.shape, "[1, 3, 4, 4]")
        XCTAssertEqual(run("image 3x112x112", "maxpool 3 stride 2 pad 1")?.shape, "[1, 3, 56, 56]")
        XCTAssertEqual(run("image 3x13x13", "adaptive_avgpool 6x6")?.shape, "[1, 3, 6, 6]")
        XCTAssertEqual(run("image 3x13x13", "globalpool")?.shape, "[1, 3]")
        XCTAssertEqual(run("image 3x13x13", "globalpool max keep")?.shape, "[1, 3, 1, 1]")
        XCTAssertEqual(run("image 3x5x6", "upsample 2")?.shape, "[1, 3, 10, 12]")
        XCTAssertEqual(error("image 3x8x8", "maxpool 2 pad 2"), "pad 2 is more than half the kernel 2")
    }

    func testPatchEmbedding() {
        let p = run("image 3x224x224", "patch 16 dim 768")
        XCTAssertEqual(p?.shape, "[1, 196, 768]")
        XCTAssertEqual(p?.count, 768 * 3 * 256 + 768)
        XCTAssertEqual(p?.macs, 196 * 768 * 3 * 256)
        XCTAssertEqual(run("image 3x224x224", "patch 4 dim 96 grid")?.shape, "[1, 56, 56, 96]")
    }

    func testNormsActivationsAndShapes() {
        XCTAssertEqual(run("image 6x4x4", "batchnorm")?.count, 12)
        XCTAssertEqual(run("x [3, 10]", "layernorm bias off")?.count, 10)
        XCTAssertEqual(run("x [3, 10]", "rmsnorm")?.count, 10)
        XCTAssertEqual(run("image 6x4x4", "groupnorm 3")?.count, 12)
        XCTAssertEqual(error("image 6x4x4", "groupnorm 4"), "groups 4 does not divide the 6 channels")
        for act in ["relu", "relu6", "gelu", "gelu tanh", "silu", "sigmoid", "tanh", "hardswish", "softmax", "dropout 0.1", "identity"] {
            XCTAssertEqual(run("x [3, 10]", act)?.shape, "[1, 3, 10]", act)
        }
        XCTAssertEqual(run("image 3x4x5", "flatten")?.shape, "[1, 60]")
        XCTAssertEqual(run("image 3x4x5", "flatten start 2")?.shape, "[1, 3, 20]")
        XCTAssertEqual(run("x [6, 4]", "reshape [3, -1]")?.shape, "[1, 3, 8]")
        XCTAssertEqual(error("x [6, 4]", "reshape 5x5"), "reshape to [5, 5] needs 25 elements per example, but the input [1, 6, 4] has 24")
        XCTAssertEqual(run("image 3x4x5", "transpose 1 -1")?.shape, "[1, 5, 4, 3]")
        XCTAssertEqual(run("image 3x4x5", "permute 0 2 3 1")?.shape, "[1, 4, 5, 3]")
        XCTAssertEqual(error("image 3x4x5", "permute 0 2 2 1"), "permute 0 2 2 1 is not an ordering of the 4 dimensions 0...3")
    }

    func testSequenceOps() {
        let v = run("x [196, 64]", "c: cls token\np: pos learned\ntake cls")
        XCTAssertEqual(v?.shape, "[1, 64]")
        XCTAssertEqual(v?.params, ["c": [1, 1, 64], "p": [1, 197, 64]])
        XCTAssertEqual(run("x [10, 8]", "pos table max 16")?.params["0.weight"], [16, 8])
        XCTAssertEqual(run("x [10, 8]", "pos sinusoidal")?.count, 0)
        XCTAssertEqual(error("x [10, 8]", "pos table max 4"), "the sequence has 10 positions but pos allows at most 4")
        XCTAssertEqual(run("x [10, 8]", "take mean")?.shape, "[1, 8]")
        XCTAssertEqual(run("ids [5] tokens\ninput types [5] tokens", "embed 50 8\nembed 2 8 from types")?.count, 416)
    }

    func testCombining() {
        XCTAssertEqual(run("image 3x8x8", "a: conv 1 4\nconv 1 4\nadd a")?.shape, "[1, 4, 8, 8]")
        XCTAssertEqual(run("image 3x8x8", "a: conv 1 4\nconv 1 6\nconcat a")?.shape, "[1, 10, 8, 8]")
        XCTAssertEqual(run("x [4, 8]", "a: identity\nlinear 1\nmul a")?.shape, "[1, 4, 8]")  // broadcast
        XCTAssertEqual(run("x [4, 8]", "residual { linear 8 }")?.count, 72)
        XCTAssertEqual(run("x [4, 8]", "parallel concat dim -1 {\n linear 3\n linear 5\n}")?.shape, "[1, 4, 8]")
        XCTAssertEqual(run("image 4x8x8", "residual { conv 3 8 stride 2 pad 1 } shortcut { conv 1 8 stride 2 }")?.shape, "[1, 8, 4, 4]")
    }

    func testAttention() {
        // packed: 3 x (8 x 8) + 24 + 8 x 8 + 8; MACs n d 3d + 2 n n d + n d d with n = 5, d = 8
        let a = run("x [5, 8]", "attn: attention heads 2")
        XCTAssertEqual(a?.count, 192 + 24 + 64 + 8)
        XCTAssertEqual(a?.macs, 5 * 8 * 24 + 2 * 5 * 5 * 8 + 5 * 8 * 8)
        XCTAssertEqual(Set(run("x [5, 8]", "attn: attention heads 2 qkv fused")?.params.keys ?? [:].keys),
                       ["attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias"])
        XCTAssertEqual(run("x [5, 8]", "attention heads 2 qkv separate bias off")?.count, 4 * 64)
        XCTAssertEqual(run("x [5, 8]", "a: attention heads 2 qknorm layer bias off causal")?.params["a.q_norm.weight"], [4])
        // Swin: 2 windows of 4x4 on an 8x4 grid; table (2*4-1)^2 x heads
        let w = run("g [8, 4, 16]", "a: attention heads 2 window 4 shift 2 relpos")
        XCTAssertEqual(w?.params["a.relative_position_bias_table"], [49, 2])
        XCTAssertEqual(w?.macs, 2 * (16 * 16 * 48 + 2 * 16 * 16 * 16 + 16 * 16 * 16))
        // cross-attention: q from x (n = 3), k and v from the memory (m = 7, width 6)
        let x = run("x [3, 8]\ninput mem [7, 6]", "a: attention heads 2 memory mem bias off")
        XCTAssertEqual(x?.params["a.k_proj.weight"], [8, 6])
        XCTAssertEqual(x?.macs, 3 * 8 * 8 + 7 * 6 * 16 + 2 * 3 * 7 * 8 + 3 * 8 * 8)
        XCTAssertEqual(error("x [5, 500]", "attention heads 12"), "heads 12 does not divide width 500")
    }

    func testFeedForwardAndMixing() {
        XCTAssertEqual(run("x [4, 8]", "mlp 32")?.count, 8 * 32 + 32 + 32 * 8 + 8)
        XCTAssertEqual(run("x [4, 8]", "swiglu 16")?.count, 3 * 8 * 16)
        XCTAssertEqual(run("x [4, 8]", "swiglu 16")?.macs, 4 * (2 * 8 * 16 + 16 * 8))
        let m = run("x [4, 8]", "moe 4 top 2 hidden 16")
        XCTAssertEqual(m?.count, 4 * 8 + 4 * 3 * 8 * 16)
        XCTAssertEqual(m?.macs, 4 * (8 * 4 + 2 * (2 * 8 * 16 + 16 * 8)))
        let g = run("x [6, 16]", "g: sgu")
        XCTAssertEqual(g?.shape, "[1, 6, 8]")
        XCTAssertEqual(g?.params["g.proj.weight"], [6, 6])
        XCTAssertEqual(g?.macs, 8 * 6 * 6)
        XCTAssertEqual(run("x [6, 16]", "n: identity\ng: sgu attn 4 from n")?.params["g.attn.qkv.weight"], [12, 16])
        let pm = run("g [7, 7, 8]", "patchmerge")
        XCTAssertEqual(pm?.shape, "[1, 4, 4, 16]")
        XCTAssertEqual(pm?.count, 16 * 32 + 64)
    }

    func testRecurrent() {
        // nn.LSTM(10, 20, 2, bidirectional): per layer and direction 4h(in + h) + 8h
        let l = run("x [5, 10]", "lstm 20 layers 2 bidirectional")
        XCTAssertEqual(l?.shape, "[1, 5, 40]")
        XCTAssertEqual(l?.count, 2 * (80 * 30 + 160) + 2 * (80 * 60 + 160))
        XCTAssertEqual(run("x [5, 10]", "gru 20 last")?.shape, "[1, 20]")
        XCTAssertEqual(run("x [5, 10]", "gru 20")?.count, 60 * 30 + 120)
        XCTAssertEqual(run("x [5, 10]", "rnn 20 bias off")?.count, 20 * 30)
    }

    func testSymbolicDimensions() throws {
        let c = Support.compile("input ids [seq] tokens\nembed 10 4\ncls token\n")
        let g = try XCTUnwrap(c.graph)
        XCTAssertEqual(describe(g.values[g.output!].shape), "[batch, seq+1, 4]")
        let bound = Support.compile("input ids [seq] tokens\nembed 10 4\ncls token\n", bindings: ["seq": 9, "batch": 2])
        XCTAssertEqual(describe(bound.graph!.values[bound.graph!.output!].shape), "[2, 10, 4]")
    }

    func testDimArithmetic() throws {
        let seq = Dim(symbol: "seq")
        XCTAssertEqual(try (seq.times(2) + Dim(3)).description, "2*seq+3")
        XCTAssertEqual(try seq.times(4).dividedFloor(by: 2), try seq.times(2))
        XCTAssertEqual(try seq.plus(1).dividedFloor(by: 2).description, "(seq+1)/2")
        XCTAssertEqual(try Dim(7).dividedCeil(by: 2), Dim(4))
        XCTAssertEqual(try seq.bound(["seq": 5]).plus(1), Dim(6))
        XCTAssertThrowsError(try Dim(Int.max).plus(1))
        XCTAssertThrowsError(try Dim(1 << 40).times(1 << 40))
        XCTAssertThrowsError(try checkedProduct([1 << 31, 1 << 31, 1 << 31]))
    }
}
