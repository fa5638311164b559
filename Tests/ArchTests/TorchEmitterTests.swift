import XCTest
@testable import ArchCodegen
@testable import ArchDriver

/// `archc emit torch`: every spec emits; the module names its parameters as the spec does.
/// (tools/check_emit_torch.py runs the emitted modules against archc with PyTorch.)
final class TorchEmitterTests: XCTestCase {
    func testEverySpecEmits() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        for f in files {
            let g = try XCTUnwrap(Support.compileSpec(f, bindings: ["seq": 128]).graph, f)
            let py = try TorchEmitter.emit(g)
            XCTAssertTrue(py.contains("class Model(nn.Module):"), f)
            XCTAssertTrue(py.contains("def forward(self, "), f)
        }
    }

    func testModuleTreeMatchesTheNames() throws {
        let g = try XCTUnwrap(Support.compileSpec("resnet18.arch").graph)
        let py = try TorchEmitter.emit(g)
        XCTAssertTrue(py.contains(#"self._add("conv1", nn.Conv2d(3, 64, 7, stride=2, padding=3, dilation=1, groups=1, bias=False))"#))
        XCTAssertTrue(py.contains(#"self._add("layer1", Group())"#))
        XCTAssertTrue(py.contains(#"self._add("layer2.0.downsample.0", nn.Conv2d(64, 128, 1, stride=2, padding=0, dilation=1, groups=1, bias=False))"#))
        XCTAssertTrue(py.contains(#"self._add("fc", nn.Linear(512, 1000, bias=True))"#))
        // Bare parameters are registered on their parent; a tied head reads the embedding's weight.
        let vit = try TorchEmitter.emit(XCTUnwrap(Support.compileSpec("vit_b16.arch").graph))
        XCTAssertTrue(vit.contains(#"self._param("class_token", (1, 1, 768))"#))
        XCTAssertTrue(vit.contains(#"self._param("encoder.pos_embedding", (1, 197, 768))"#))
        let gpt = try TorchEmitter.emit(XCTUnwrap(Support.compileSpec("gpt2.arch", bindings: ["seq": 8]).graph))
        XCTAssertTrue(gpt.contains(#"F.linear("#) && gpt.contains(#"self.get_parameter("wte.weight")"#))
    }

    /// Attention and SwiGLU carry the spec's layout, names, key/value heads and rotary positions; layers
    /// labelled under a dotted name join the Group the attention made for it (BERT's attention.output);
    /// the forward call passes the tensors the layer reads (tools/check_emit_torch.py --fixtures runs
    /// them on transformers' own checkpoints).
    func testAttentionOptionsAndNames() throws {
        let llama = try TorchEmitter.emit(XCTUnwrap(Support.compileSpec("llama.arch", bindings: ["seq": 8]).graph))
        XCTAssertTrue(llama.contains(#"self._add("model", Group())"#))
        XCTAssertTrue(llama.contains(#"self._add("model.layers.0.self_attn", Attention(2048, 32, 2048, 2048, False, False, "separate", "off", True, None, 0, False, 2048, 4, "half", 10000.0, (("q_proj", "q"), ("k_proj", "k"), ("v_proj", "v"),), "o_proj"))"#), llama)
        XCTAssertTrue(llama.contains(#"SwiGLU(2048, 5632, 2048, False, ("gate_proj", "up_proj", "down_proj"), True)"#))
        let bertSpec = Support.fixtures.appendingPathComponent("numerics/bert_masked/model.arch").path
        let bert = try TorchEmitter.emit(XCTUnwrap(Pipeline.compile(path: bertSpec, bindings: ["seq": 9]).graph))
        XCTAssertTrue(bert.contains(#"(("self.query", "q"), ("self.key", "k"), ("self.value", "v"),), "output.dense"))"#), bert)
        XCTAssertFalse(bert.contains(#"self._add("encoder.layer.0.attention.output", Group())"#), "the attention's own Group is used")
        XCTAssertTrue(bert.contains(#"self._add("encoder.layer.0.attention.output.LayerNorm", nn.LayerNorm(32, eps=1e-12"#))
        XCTAssertTrue(bert.contains("mask=v2)"), "the attention reads the attention_mask input")
        let opsSpec = Support.fixtures.appendingPathComponent("numerics/ops_attention_small/model.arch").path
        let ops = try TorchEmitter.emit(XCTUnwrap(Pipeline.compile(path: opsSpec, bindings: [:]).graph))
        XCTAssertTrue(ops.contains(#", 2, "interleaved", 10000.0, (("qkv", "qkv"),), "proj"))"#), ops)
        XCTAssertTrue(ops.contains(#""fused", "off", False, None, 0, False, 32, 4, None, 10000.0, (("in_proj", "qkv"),), "out_proj"))"#), ops)
    }

    func testCommandWritesTheFile() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("archc-emit-\(getpid()).py").path
        let r = Support.run("emit", "torch", Support.specs.appendingPathComponent("mlp.arch").path, "-o", out)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains(#"self._add("fc1", nn.Linear(1024, 2048, bias=True))"#))
        XCTAssertEqual(Support.run("emit", "onnx", "x.arch").status, 2)
    }
}
