import XCTest
@testable import ArchCodegen
@testable import ArchDriver

/// `archc emit torch`: every spec emits; the module names its parameters as the spec does, builds its
/// layers with keyword arguments, and carries only the helpers it uses. (TorchNumericsTests runs the
/// modules in PyTorch; Fixtures/snapshots/torch holds two of them whole.)
final class TorchEmitterTests: XCTestCase {
    func testEverySpecEmits() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        for f in files {
            let g = try XCTUnwrap(Support.compileSpec(f, bindings: ["seq": 128]).graph, f)
            let py = try TorchEmitter.emit(g)
            XCTAssertTrue(py.contains("class Model(nn.Module):"), f)
            XCTAssertTrue(py.contains("def forward(self, "), f)
            XCTAssertFalse(py.contains("get_submodule(\"") || py.contains("Group()"), f)
        }
    }

    func testModuleTreeMatchesTheNames() throws {
        let py = try TorchEmitter.emit(XCTUnwrap(Support.compileSpec("resnet18.arch").graph))
        for line in ["self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)", "self.fc = nn.Linear(512, 1000)",
                     "def forward(self, image):", "x = F.max_pool2d(x, 3, 2, 1)\n        for layer in self.layer1:\n            x = layer(x)\n",
                     // Each use of a block is a module of a class written for it; alike uses share one.
                     "self.layer1 = nn.ModuleList([Basic(64, 64, stride=1) for _ in range(2)])",
                     "self.layer2 = nn.ModuleList([BasicDown(64, 128, stride=2), Basic(128, 128, stride=1)])",
                     "class Basic(nn.Module):\n    \"\"\"block basic(out, stride, down), built for down off\"\"\"\n\n    def __init__(self, channels, out, stride):\n",
                     "class BasicDown(nn.Module):", "        self.conv1 = nn.Conv2d(channels, out, 3, stride=stride, padding=1, bias=False)\n",
                     "        self.bn1 = nn.BatchNorm2d(out, eps=1e-05)\n",
                     "        self.downsample = nn.ModuleList([\n            nn.Conv2d(channels, out, 1, stride=stride, bias=False),\n",
                     "    def forward(self, x):\n        h = self.conv1(x)\n", "        h = h + x\n        h = F.relu(h)\n        return h\n"] {
            XCTAssertTrue(py.contains(line), "\(line)\n\(py)")
        }
        XCTAssertEqual(py.components(separatedBy: "\nclass ").count - 1, 3, "basic without and with the downsample branch, and Model")
        XCTAssertFalse(py.contains("class Attention") || py.contains("def _positions"), "only the helpers the network uses")
        // Bare parameters are registered on their owner; a tied head reads the embedding's weight.
        let vit = try TorchEmitter.emit(XCTUnwrap(Support.compileSpec("vit_b16.arch").graph))
        XCTAssertTrue(vit.contains("self.class_token = nn.Parameter(torch.zeros(1, 1, 768))"))
        XCTAssertTrue(vit.contains("self.encoder.pos_embedding = nn.Parameter(torch.zeros(1, 197, 768))"))
        XCTAssertTrue(vit.contains("nn.init.normal_(self.encoder.pos_embedding, std=0.02)"))
        XCTAssertTrue(vit.contains(#"_positions(self.encoder.pos_embedding, x.shape[1], "encoder.pos_embedding")"#))
        let gpt = try TorchEmitter.emit(XCTUnwrap(Support.compileSpec("gpt2.arch", bindings: ["seq": 8]).graph))
        XCTAssertTrue(gpt.contains("F.linear(x, self.transformer.wte.weight)"), gpt)
        XCTAssertTrue(gpt.contains("nn.init.normal_(self.transformer.wte.weight, std=0.02)"))
        // GPT-2's Conv1D projections: weights stored [in, out], loaded as transformers saves them.
        XCTAssertTrue(gpt.contains(#"self.attn = Attention(dim, heads, causal=True, projections=(("c_attn", "qkv"),), output="c_proj", conv1d=True)"#), gpt)
        XCTAssertTrue(gpt.contains(#"self.mlp = Mlp(dim, hidden, dim, act="gelu_tanh", names=("c_fc", "c_proj"), conv1d=True)"#), gpt)
        XCTAssertTrue(gpt.contains("class Conv1D(nn.Module):"))
        XCTAssertFalse(py.contains("class Conv1D"), "written only for conv1d layers")
        XCTAssertTrue(gpt.contains("F.scaled_dot_product_attention("))
    }

    /// Attention and SwiGLU carry the spec's layout, names, key/value heads and rotary positions as keyword
    /// arguments; layers labelled under a dotted name join the module the attention made for it (BERT's
    /// attention.output); the forward call passes the tensors the layer reads.
    func testAttentionOptionsAndNames() throws {
        let llama = try TorchEmitter.emit(XCTUnwrap(Support.compileSpec("llama.arch", bindings: ["seq": 8]).graph))
        XCTAssertTrue(llama.contains("self.model = nn.Module()"))
        XCTAssertTrue(llama.contains("self.model.layers = nn.ModuleList([LlamaLayer(2048, 32) for _ in range(22)])"), llama)
        XCTAssertTrue(llama.contains(#"        self.self_attn = Attention(dim, heads, kvheads=4, bias=False, causal=True, rope="half", projections=(("q_proj", "q"), ("k_proj", "k"), ("v_proj", "v")), output="o_proj")"#), llama)
        XCTAssertTrue(llama.contains(#"SwiGLU(2048, 5632, 2048, names=("gate_proj", "up_proj", "down_proj"), named=True)"#), llama)
        let bertSpec = Support.fixtures.appendingPathComponent("numerics/bert_masked/model.arch").path
        let bert = try TorchEmitter.emit(XCTUnwrap(Pipeline.compile(path: bertSpec, bindings: ["seq": 9]).graph))
        XCTAssertTrue(bert.contains(#"projections=(("self.query", "q"), ("self.key", "k"), ("self.value", "v")), output="output.dense")"#), bert)
        XCTAssertFalse(bert.contains("self.attention.output = nn.Module()"), "the attention's own module is used")
        XCTAssertTrue(bert.contains("        self.attention.output.LayerNorm = nn.LayerNorm(dim, eps=1e-12)"), bert)
        XCTAssertTrue(bert.contains(", mask=attention_mask)"), "the attention reads the attention_mask input")
        let opsSpec = Support.fixtures.appendingPathComponent("numerics/ops_attention_small/model.arch").path
        let ops = try TorchEmitter.emit(XCTUnwrap(Pipeline.compile(path: opsSpec, bindings: [:]).graph))
        XCTAssertTrue(ops.contains(#"self.gqa = Attention(32, 4, kvheads=2, causal=True, rope="interleaved")"#), ops)
        XCTAssertTrue(ops.contains(#"self.cross = Attention(32, 4, projections=(("in_proj", "qkv"),), output="out_proj", fused=True)"#), ops)
        XCTAssertTrue(ops.contains(#"self.attn = _adopt(Attention(32, 2, projections=(("q", "q"), ("kv", "kv"))), self.attn)"#), "PVT's attn.sr came first")
    }

    func testCommandWritesTheFile() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("archc-emit-\(getpid()).py").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = Support.run("emit", "torch", Support.specs.appendingPathComponent("mlp.arch").path, "-o", out)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains("self.fc1 = nn.Linear(1024, 2048)"))
        XCTAssertEqual(Support.run("emit", "onnx", "x.arch").status, 2)
    }

    /// The whole emitted module of two small networks, for a reviewer to read as a diff:
    /// Fixtures/snapshots/torch/NAME.py (re-record with `ARCHC_RECORD=1 swift test --filter TorchEmitterTests`).
    func testSnapshots() throws {
        let record = ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1"
        for name in ["resnet_small", "gpt2_small"] {
            let spec = Support.fixtures.appendingPathComponent("numerics/\(name)/model.arch").path
            let py = try TorchEmitter.emit(XCTUnwrap(Pipeline.compile(path: spec, bindings: [:]).graph))
            let url = Support.fixtures.appendingPathComponent("snapshots/torch/\(name).py")
            if record {
                try py.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try? String(contentsOf: url, encoding: .utf8)
            XCTAssertNotNil(expected, "\(url.path) is missing; record it with ARCHC_RECORD=1")
            if let expected, py != expected {
                XCTFail("\(name): the emitted module changed; \(DiagnosticSnapshotTests.firstDifference(py, expected))\n" +
                        "re-record with ARCHC_RECORD=1 if the change is intended, and review the diff")
            }
        }
        if record { XCTFail("re-recorded the emitted modules in Fixtures/snapshots/torch; review the diff and run again without ARCHC_RECORD") }
    }
}
