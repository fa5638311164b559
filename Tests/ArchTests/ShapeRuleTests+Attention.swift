import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver

/// Attention, the feed-forward family, token mixing and recurrent layers.
final class AttentionShapeRuleTests: XCTestCase {
    /// n = 10 tokens of width 32, 4 heads.
    static let tokens = "input x 10x32\n"

    func testAttentionLayouts() throws {
        // MACs: q 10*32*32 + k, v 10*32*64 + QK^T and AV 10*10*64 + output 10*32*32.
        let macs = 10 * 32 * 32 + 10 * 32 * 64 + 10 * 10 * 64 + 10 * 32 * 32
        let packed = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4"))
        XCTAssertEqual(packed.shape, [1, 10, 32])
        XCTAssertEqual(packed.params, ["attn.qkv.weight [96, 32]", "attn.qkv.bias [96]", "attn.proj.weight [32, 32]", "attn.proj.bias [32]"])
        XCTAssertEqual(packed.macs, macs)
        XCTAssertEqual(packed.other, 4 * 10 * 10)
        let fused = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 qkv fused"))
        XCTAssertEqual(fused.params, ["attn.in_proj_weight [96, 32]", "attn.in_proj_bias [96]", "attn.out_proj.weight [32, 32]", "attn.out_proj.bias [32]"])
        XCTAssertEqual(fused.macs, macs)
        let separate = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 qkv separate bias off"))
        XCTAssertEqual(separate.params, ["attn.q_proj.weight [32, 32]", "attn.k_proj.weight [32, 32]", "attn.v_proj.weight [32, 32]",
                                         "attn.out_proj.weight [32, 32]"])
        XCTAssertEqual(separate.macs, macs)
        // Inner width, output width, an output bias without the q, k, v biases.
        let inner = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 2 dim 16 out 8 bias off outbias on"))
        XCTAssertEqual(inner.shape, [1, 10, 8])
        XCTAssertEqual(inner.params, ["attn.qkv.weight [48, 32]", "attn.proj.weight [8, 16]", "attn.proj.bias [8]"])
        XCTAssertEqual(inner.macs, 10 * 32 * 16 + 10 * 32 * 32 + 10 * 10 * 32 + 10 * 16 * 8)
        // Causal masking changes no count.
        let causal = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 causal"))
        XCTAssertEqual(causal.macs, macs)
        XCTAssertEqual(causal.graph.nodes.last?.args["causal"], .bool(true))
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention heads 5").first, "heads 5 does not divide width 32")
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention").first, "attention needs 'heads N'")
    }

    func testAttentionQKNorm() throws {
        // timm's order: qkv, q_norm, k_norm, proj; one norm per head of 32 / 4 = 8.
        let layer = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 qknorm layer"))
        XCTAssertEqual(layer.params, ["attn.qkv.weight [96, 32]", "attn.qkv.bias [96]", "attn.q_norm.weight [8]", "attn.q_norm.bias [8]",
                                      "attn.k_norm.weight [8]", "attn.k_norm.bias [8]", "attn.proj.weight [32, 32]", "attn.proj.bias [32]"])
        let rms = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 qknorm rms bias off"))
        XCTAssertEqual(rms.params, ["attn.qkv.weight [96, 32]", "attn.q_norm.weight [8]", "attn.k_norm.weight [8]", "attn.proj.weight [32, 32]"])
    }

    func testWindowAttention() throws {
        // A 14x14 grid in 2x2 windows of 7x7 = 49 positions; Swin's relative position table and index.
        let w = try XCTUnwrap(Compiled.of("input x 14x14x32\nattn: attention heads 2 window 7 shift 3 relpos"))
        XCTAssertEqual(w.shape, [1, 14, 14, 32])
        XCTAssertEqual(Set(w.params), ["attn.relative_position_bias_table [169, 2]", "attn.relative_position_index [2401] buffer",
                                       "attn.qkv.weight [96, 32]", "attn.qkv.bias [96]", "attn.proj.weight [32, 32]", "attn.proj.bias [32]"])
        XCTAssertEqual(w.params.count, 6)
        XCTAssertEqual(w.count, 169 * 2 + 96 * 32 + 96 + 32 * 32 + 32)
        XCTAssertEqual(w.macs, 4 * 49 * 32 * 96 + 4 * 49 * 49 * 64 + 4 * 49 * 32 * 32)
        XCTAssertEqual(w.other, 4 * 2 * 49 * 49)
        // A partial window rounds up (the grid is padded).
        XCTAssertEqual(Compiled.of("input x 10x10x32\nattention heads 2 window 7")?.macs, 4 * 49 * 32 * 96 + 4 * 49 * 49 * 64 + 4 * 49 * 32 * 32)
        XCTAssertEqual(Compiled.errors("input x 14x14x32\nattention heads 2 window 7 shift 7").first, "shift 7 must be smaller than the window 7")
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention heads 2 shift 1").first, "shift needs window attention ('window N')")
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention heads 2 relpos").first, "relpos needs 'window N'")
    }

    func testCrossAttention() throws {
        // Queries from 10 tokens of 32, keys and values from 6 tokens of 16: nn.MultiheadAttention's kdim/vdim layout.
        let c = try XCTUnwrap(Compiled.of("input x 10x32\ninput enc 6x16\ncross: attention heads 4 memory enc"))
        XCTAssertEqual(c.shape, [1, 10, 32])
        XCTAssertEqual(c.params, ["cross.q_proj.weight [32, 32]", "cross.q_proj.bias [32]", "cross.k_proj.weight [32, 16]", "cross.k_proj.bias [32]",
                                  "cross.v_proj.weight [32, 16]", "cross.v_proj.bias [32]", "cross.out_proj.weight [32, 32]", "cross.out_proj.bias [32]"])
        XCTAssertEqual(c.macs, 10 * 32 * 32 + 6 * 16 * 64 + 10 * 6 * 64 + 10 * 32 * 32)
        XCTAssertEqual(c.other, 4 * 10 * 6)
        XCTAssertEqual(Compiled.errors("input x 10x32\ninput enc 6x16\nattention heads 4 memory enc qkv fused").first,
                       "qkv fused needs one input width, but the queries have 32 and the keys 16")
    }

    func testMLPAndSwiGLU() throws {
        let m = try XCTUnwrap(Compiled.of(Self.tokens + "mlp: mlp 64"))
        XCTAssertEqual(m.shape, [1, 10, 32])
        XCTAssertEqual(m.params, ["mlp.fc1.weight [64, 32]", "mlp.fc1.bias [64]", "mlp.fc2.weight [32, 64]", "mlp.fc2.bias [32]"])
        XCTAssertEqual(m.macs, 10 * (32 * 64 + 64 * 32))
        XCTAssertEqual(m.other, 10 * 64)
        let o = try XCTUnwrap(Compiled.of(Self.tokens + "mlp: mlp 64 out 8 bias off act relu"))
        XCTAssertEqual(o.shape, [1, 10, 8])
        XCTAssertEqual(o.params, ["mlp.fc1.weight [64, 32]", "mlp.fc2.weight [8, 64]"])
        XCTAssertEqual(o.macs, 10 * (32 * 64 + 64 * 8))
        let s = try XCTUnwrap(Compiled.of(Self.tokens + "ffn: swiglu 48"))
        XCTAssertEqual(s.shape, [1, 10, 32])
        XCTAssertEqual(s.params, ["ffn.w1.weight [48, 32]", "ffn.w2.weight [32, 48]", "ffn.w3.weight [48, 32]"])
        XCTAssertEqual(s.macs, 10 * (2 * 32 * 48 + 48 * 32))
        XCTAssertEqual(Compiled.of(Self.tokens + "ffn: swiglu 48 out 16 bias on")?.params,
                       ["ffn.w1.weight [48, 32]", "ffn.w1.bias [48]", "ffn.w2.weight [16, 48]", "ffn.w2.bias [16]", "ffn.w3.weight [48, 32]", "ffn.w3.bias [48]"])
    }

    func testMixtureOfExperts() throws {
        let m = try XCTUnwrap(Compiled.of(Self.tokens + "moe: moe 4 top 2 hidden 16"))
        XCTAssertEqual(m.shape, [1, 10, 32])
        XCTAssertEqual(m.params.count, 1 + 4 * 3)
        XCTAssertEqual(Array(m.params.prefix(4)), ["moe.gate.weight [4, 32]", "moe.experts.0.w1.weight [16, 32]", "moe.experts.0.w2.weight [32, 16]",
                                                  "moe.experts.0.w3.weight [16, 32]"])
        XCTAssertEqual(m.params.last, "moe.experts.3.w3.weight [16, 32]")
        XCTAssertEqual(m.count, 4 * 32 + 4 * 3 * 16 * 32)
        // The router, then the top 2 experts per token.
        XCTAssertEqual(m.macs, 10 * 32 * 4 + 10 * 2 * (2 * 32 * 16 + 16 * 32))
        let mlp = try XCTUnwrap(Compiled.of(Self.tokens + "moe: moe 3 top 1 hidden 16 expert mlp"))
        XCTAssertEqual(Array(mlp.params.prefix(5)), ["moe.gate.weight [3, 32]", "moe.experts.0.fc1.weight [16, 32]", "moe.experts.0.fc1.bias [16]",
                                                    "moe.experts.0.fc2.weight [32, 16]", "moe.experts.0.fc2.bias [32]"])
        XCTAssertEqual(mlp.count, 3 * 32 + 3 * (16 * 32 + 16 + 32 * 16 + 32))
        XCTAssertEqual(mlp.macs, 10 * 32 * 3 + 10 * 1 * (2 * 32 * 16))
        XCTAssertEqual(Compiled.errors(Self.tokens + "moe 2 top 3 hidden 8").first, "top 3 is more than the 2 experts")
        XCTAssertEqual(Compiled.errors(Self.tokens + "moe 2").first, "moe needs 'hidden N', the width of each expert")
    }

    func testSpatialGatingUnit() throws {
        // [1, 8, 32] splits into u, v of 16; the projection mixes the 8 tokens.
        let s = try XCTUnwrap(Compiled.of("input x 8x32\ngate: sgu split"))
        XCTAssertEqual(s.shape, [1, 8, 16])
        XCTAssertEqual(s.params, ["gate.norm.weight [16]", "gate.norm.bias [16]", "gate.proj.weight [8, 8]", "gate.proj.bias [8]"])
        XCTAssertEqual(s.macs, 16 * 8 * 8)
        // aMLP's tiny attention of width 4 reading x ([1, 8, 12]) and adding to the 16-wide gate.
        let a = try XCTUnwrap(Compiled.of("input x 8x12\nn: layernorm\nlinear 32\ngate: sgu attn 4 from n"))
        XCTAssertEqual(Array(a.params.suffix(4)), ["gate.attn.qkv.weight [12, 12]", "gate.attn.qkv.bias [12]", "gate.attn.proj.weight [16, 4]", "gate.attn.proj.bias [16]"])
        XCTAssertEqual(a.macs, 8 * 12 * 32 + 16 * 8 * 8 + 8 * 12 * 12 + 8 * 8 * 8 + 8 * 4 * 16)
        // Without from, the tiny attention reads the unit's own input.
        XCTAssertEqual(Compiled.of("input x 8x32\ngate: sgu attn 4")?.params.suffix(4).first, "gate.attn.qkv.weight [12, 32]")
        XCTAssertEqual(Compiled.errors("input x 8x31\nsgu").first, "sgu splits the width in two halves, but 31 is odd")
        XCTAssertEqual(Compiled.errors("input x 8x32\nsgu from x").first, "'from' names the tiny attention's input; add 'attn 64'")
    }

    func testPatchMerging() throws {
        let p = try XCTUnwrap(Compiled.of("input x 8x8x96\nmerge: patchmerge"))
        XCTAssertEqual(p.shape, [1, 4, 4, 192])
        XCTAssertEqual(p.params, ["merge.reduction.weight [192, 384]", "merge.norm.weight [384]", "merge.norm.bias [384]"])
        XCTAssertEqual(p.macs, 4 * 4 * 384 * 192)
        // Odd sizes are padded (torchvision pads to even).
        XCTAssertEqual(Compiled.of("input x 7x7x96\npatchmerge")?.shape, [1, 4, 4, 192])
    }

    func testRecurrent() throws {
        // nn.LSTM: 4h(in + h) + 8h per layer and direction.
        let l = try XCTUnwrap(Compiled.of("input x 5x10\nrnn: lstm 20"))
        XCTAssertEqual(l.shape, [1, 5, 20])
        XCTAssertEqual(l.params, ["rnn.weight_ih_l0 [80, 10]", "rnn.weight_hh_l0 [80, 20]", "rnn.bias_ih_l0 [80]", "rnn.bias_hh_l0 [80]"])
        XCTAssertEqual(l.count, 4 * 20 * (10 + 20) + 8 * 20)
        XCTAssertEqual(l.macs, 5 * 80 * 30)
        // Two bidirectional layers: the second reads 2h = 40 features.
        let bi = try XCTUnwrap(Compiled.of("input x 5x10\nrnn: lstm 20 layers 2 bidirectional"))
        XCTAssertEqual(bi.shape, [1, 5, 40])
        XCTAssertEqual(bi.count, 2 * (4 * 20 * (10 + 20) + 8 * 20) + 2 * (4 * 20 * (40 + 20) + 8 * 20))
        XCTAssertEqual(bi.params.filter { $0.hasPrefix("rnn.weight_ih") },
                       ["rnn.weight_ih_l0 [80, 10]", "rnn.weight_ih_l0_reverse [80, 10]", "rnn.weight_ih_l1 [80, 40]", "rnn.weight_ih_l1_reverse [80, 40]"])
        XCTAssertEqual(bi.macs, 2 * 5 * 80 * 30 + 2 * 5 * 80 * 60)
        // nn.GRU: 3h(in + h) + 6h; nn.RNN: h(in + h) + 2h.
        XCTAssertEqual(Compiled.of("input x 5x10\ngru 16")?.count, 3 * 16 * 26 + 6 * 16)
        XCTAssertEqual(Compiled.of("input x 5x10\nrnn 16")?.count, 16 * 26 + 2 * 16)
        XCTAssertEqual(Compiled.of("input x 5x10\nlstm 20 bias off")?.count, 4 * 20 * 30)
        XCTAssertEqual(Compiled.of("input x 5x10\ngru 16 last")?.shape, [1, 16])
        XCTAssertEqual(Compiled.of("input x 5x10\ngru 16 bidirectional last")?.shape, [1, 32])
    }
}
