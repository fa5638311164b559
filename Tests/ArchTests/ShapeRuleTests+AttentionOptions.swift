import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver

/// Issue 10's attention options: grouped-query heads, rotary positions, the key padding mask, the
/// q_kv and qk_v layouts, queries from another tensor, and the projections' names (swiglu's too).
final class AttentionOptionShapeRuleTests: XCTestCase {
    static let tokens = AttentionShapeRuleTests.tokens  // 10 tokens of width 32

    func testGroupedAndMultiQueryHeads() throws {
        // 4 query heads of 8; 2 key/value heads: k and v project to 16 each.
        let gqa = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 kvheads 2 qkv separate bias off"))
        XCTAssertEqual(gqa.params, ["attn.q_proj.weight [32, 32]", "attn.k_proj.weight [16, 32]", "attn.v_proj.weight [16, 32]",
                                    "attn.out_proj.weight [32, 32]"])
        // q 10*32*32, k and v 10*32*(2*16), QK^T and AV over every query head 10*10*(2*32), output 10*32*32.
        XCTAssertEqual(gqa.macs, 10 * 32 * 32 + 10 * 32 * 32 + 10 * 10 * 64 + 10 * 32 * 32)
        XCTAssertEqual(gqa.other, 4 * 10 * 10)
        // Multi-query, packed: qkv holds q (32), k (8) and v (8).
        let mqa = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 kvheads 1"))
        XCTAssertEqual(mqa.params, ["attn.qkv.weight [48, 32]", "attn.qkv.bias [48]", "attn.proj.weight [32, 32]", "attn.proj.bias [32]"])
        XCTAssertEqual(mqa.macs, 10 * 32 * 32 + 10 * 32 * 16 + 10 * 10 * 64 + 10 * 32 * 32)
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention heads 4 kvheads 3").first, "kvheads 3 does not divide heads 4")
    }

    func testRotaryPositions() throws {
        // Rope changes no parameter and no MAC; it turns q (10 x 32) and k (10 x 16) once: other ops.
        let rope = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 4 kvheads 2 rope half rope_base 500000"))
        XCTAssertEqual(rope.count, 48 * 32 + 48 + 32 * 32 + 32 + 16 * 32 + 16)
        XCTAssertEqual(rope.macs, 10 * 32 * 32 + 10 * 32 * 32 + 10 * 10 * 64 + 10 * 32 * 32)
        XCTAssertEqual(rope.other, 4 * 10 * 10 + 10 * 32 + 10 * 16)
        XCTAssertEqual(rope.graph.nodes.last?.args["rope_base"], .float(500_000))
        XCTAssertNotNil(Compiled.of(Self.tokens + "attention heads 4 rope interleaved"))
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention heads 4 dim 20 rope half").first,
                       "rope turns pairs of a head's features, but the head width 20 / 4 = 5 is odd")
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention heads 4 rope_base 10").first, "rope_base needs 'rope half' or 'rope interleaved'")
    }

    func testKeyPaddingMask() throws {
        let masked = try XCTUnwrap(Compiled.of("input ids [seq] tokens\ninput attention_mask [seq] tokens\nembed 50 32\n"
                                               + "attn: attention heads 4 mask attention_mask", bindings: ["batch": 2, "seq": 7]))
        XCTAssertEqual(masked.shape, [2, 7, 32])
        let node = try XCTUnwrap(masked.graph.nodes.last)
        XCTAssertEqual(node.inputs.count, 2, "the mask is the attention's second operand")
        XCTAssertEqual(node.inputs[1], masked.graph.inputs[1].value)
        // A float mask of the memory's length, with cross-attention.
        XCTAssertNotNil(Compiled.of("input x 10x32\ninput enc 6x16\ninput keep 6\nattention heads 4 memory enc mask keep"))
        XCTAssertEqual(Compiled.errors("input x 10x32\ninput keep 9\nattention heads 4 mask keep").first,
                       "the mask 'keep' has shape [1, 9], but a key padding mask is [batch, keys] = [1, 10]")
    }

    func testLayoutsAndNames() throws {
        let qkv = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 2 qkv q_kv"))
        XCTAssertEqual(qkv.params, ["attn.q.weight [32, 32]", "attn.q.bias [32]", "attn.kv.weight [64, 32]", "attn.kv.bias [64]",
                                    "attn.proj.weight [32, 32]", "attn.proj.bias [32]"])
        let qkV = try XCTUnwrap(Compiled.of(Self.tokens + "attn: attention heads 2 qkv qk_v bias off"))
        XCTAssertEqual(qkV.params, ["attn.qk.weight [64, 32]", "attn.v.weight [32, 32]", "attn.proj.weight [32, 32]"])
        XCTAssertEqual(qkV.macs, 10 * 32 * 32 + 10 * 32 * 64 + 10 * 10 * 64 + 10 * 32 * 32)
        // transformers' LLaMA names, and BERT's dotted ones (submodules of the attention's module).
        let llama = try XCTUnwrap(Compiled.of(Self.tokens + "self_attn: attention heads 4 kvheads 2 bias off qkv separate names q_proj k_proj v_proj o_proj"))
        XCTAssertEqual(llama.params.last, "self_attn.o_proj.weight [32, 32]")
        let bert = try XCTUnwrap(Compiled.of(Self.tokens + "attention: attention heads 4 qkv separate names self.query self.key self.value output.dense"))
        XCTAssertEqual(bert.params, ["attention.self.query.weight [32, 32]", "attention.self.query.bias [32]", "attention.self.key.weight [32, 32]",
                                     "attention.self.key.bias [32]", "attention.self.value.weight [32, 32]", "attention.self.value.bias [32]",
                                     "attention.output.dense.weight [32, 32]", "attention.output.dense.bias [32]"])
        // Names that are also options' names, in brackets; nn.MultiheadAttention's bare tensors renamed.
        let bracketed = try XCTUnwrap(Compiled.of(Self.tokens + "a: attention heads 4 names [qkv, out] bias off"))
        XCTAssertEqual(bracketed.params, ["a.qkv.weight [96, 32]", "a.out.weight [32, 32]"])
        let fused = try XCTUnwrap(Compiled.of(Self.tokens + "a: attention heads 4 qkv fused names attn_in attn_out bias off"))
        XCTAssertEqual(fused.params, ["a.attn_in_weight [96, 32]", "a.attn_out.weight [32, 32]"])
        XCTAssertEqual(Compiled.errors(Self.tokens + "attention heads 4 qkv q_kv names q kv").first,
                       "qkv q_kv has 3 projections (q, k+v, output), but 'names' lists 2")
    }

    /// PVT's spatial-reduction attention: queries from the block's normalised input, keys and values
    /// from the reduced grid that the attention reads as its input (`queries`), q_kv at their widths.
    func testQueriesFromAnotherTensor() throws {
        let pvt = try XCTUnwrap(Compiled.of("input x 16x32\nnorm1: layernorm\ntranspose 1 2\nreshape 32x4x4\nattn.sr: patch 2 dim 32\n"
                                            + "attn.norm: layernorm\nattn: attention heads 2 qkv q_kv queries norm1"))
        XCTAssertEqual(pvt.shape, [1, 16, 32])
        XCTAssertEqual(Array(pvt.params.suffix(6)), ["attn.q.weight [32, 32]", "attn.q.bias [32]", "attn.kv.weight [64, 32]", "attn.kv.bias [64]",
                                                     "attn.proj.weight [32, 32]", "attn.proj.bias [32]"])
        let attention = try XCTUnwrap(pvt.graph.nodes.last)
        // q 16*32*32, k and v from the 4 reduced positions 4*32*64, QK^T and AV 16*4*64, output 16*32*32.
        XCTAssertEqual(attention.macs, 16 * 32 * 32 + 4 * 32 * 64 + 16 * 4 * 64 + 16 * 32 * 32)
        XCTAssertEqual(Compiled.errors(Self.tokens + "y: linear 32\nattention heads 4 queries y qkv qk_v").first,
                       "qkv qk_v projects q and k together, but with 'queries' they come from two tensors")
    }

    func testSwiGLUNames() throws {
        let named = try XCTUnwrap(Compiled.of(Self.tokens + "mlp: swiglu 64 names gate_proj up_proj down_proj"))
        XCTAssertEqual(named.params, ["mlp.gate_proj.weight [64, 32]", "mlp.up_proj.weight [64, 32]", "mlp.down_proj.weight [32, 64]"])
        XCTAssertEqual(named.macs, 10 * (2 * 32 * 64 + 64 * 32))
        let plain = try XCTUnwrap(Compiled.of(Self.tokens + "mlp: swiglu 64"))
        XCTAssertEqual(plain.params, ["mlp.w1.weight [64, 32]", "mlp.w2.weight [32, 64]", "mlp.w3.weight [64, 32]"])
        XCTAssertEqual(Compiled.errors(Self.tokens + "swiglu 64 names a b c d").first, "swiglu has 3 projections (gate, up, down), but 'names' lists 4")
    }
}
