import XCTest
@testable import ArchSemantics
@testable import ArchDriver

/// The seed networks beyond the reference table. Each spec derives its counts by hand in its
/// header comment; the parameter counts were also checked against PyTorch modules
/// (transformers' BertLayer, nn.Embedding + nn.LSTM + nn.Linear, a torch U-Net and SwiGLU MoE).
final class SeedSpecTests: XCTestCase {
    struct Expectation {
        let spec: String
        let bindings: [String: Int]
        let params: Int
        let macs: Int
        let output: [Int]
    }

    static let expectations: [Expectation] = [
        Expectation(spec: "bert_layer.arch", bindings: ["seq": 128], params: 7_087_872, macs: 931_135_488, output: [1, 128, 768]),
        Expectation(spec: "amlp.arch", bindings: [:], params: 4_078_336, macs: 553_648_128, output: [1, 128, 8192]),
        Expectation(spec: "vit22b_block.arch", bindings: ["seq": 256], params: 12_589_184, macs: 3_355_443_200, output: [1, 256, 1024]),
        Expectation(spec: "moe.arch", bindings: ["seq": 64], params: 22_024_704, macs: 352_583_680, output: [1, 64, 512]),
        Expectation(spec: "lstm.arch", bindings: ["seq": 35], params: 11_368_208, macs: 307_650_560, output: [1, 35, 10000]),
        Expectation(spec: "unet.arch", bindings: [:], params: 117_090, macs: 99_287_040, output: [1, 2, 64, 64]),
    ]

    func testHandDerivedCounts() throws {
        for e in Self.expectations {
            let c = Support.compileSpec(e.spec, bindings: e.bindings)
            XCTAssertTrue(c.succeeded && c.diagnostics.diagnostics.isEmpty, "\(e.spec):\n\(Support.rendered(c))")
            guard let g = c.graph, c.succeeded else { continue }
            let s = try Summary(g)
            XCTAssertEqual(s.params, e.params, "\(e.spec) parameters")
            XCTAssertEqual(s.macs, e.macs, "\(e.spec) MACs")
            XCTAssertEqual(s.outputShape?.map(\.value), e.output.map { Optional($0) }, "\(e.spec) output shape")
        }
    }

    /// The hand derivation in each spec's header ends in the same total the test asserts.
    func testHeaderCommentsStateTheTotals() throws {
        for e in Self.expectations {
            let text = try String(contentsOf: Support.specs.appendingPathComponent(e.spec), encoding: .utf8)
            XCTAssertTrue(text.contains(Format.grouped(e.params)), "\(e.spec) does not state \(Format.grouped(e.params)) in its comments")
        }
    }

    func testSeedSpecificStructure() throws {
        // ViT-22B: norms without bias or centering (RMSNorm, q/k per head), no QKV or output
        // projection bias, MLP biases kept.
        let vit = try XCTUnwrap(Support.compileSpec("vit22b_block.arch", bindings: ["seq": 4]).graph)
        let names = Set(vit.params.map(\.name))
        XCTAssertTrue(names.contains("block.attn.q_norm.weight"))
        XCTAssertFalse(names.contains("block.attn.q_norm.bias"))
        XCTAssertFalse(names.contains("block.norm1.bias"))
        XCTAssertFalse(names.contains("block.attn.qkv.bias"))
        XCTAssertFalse(names.contains("block.attn.proj.bias"))
        XCTAssertTrue(names.contains("block.mlp.fc1.bias"))
        XCTAssertTrue(names.contains("block.mlp.fc2.bias"))
        XCTAssertEqual(vit.nodes.first { $0.path.last == "norm1" }?.op, .rmsnorm)
        let attn = try XCTUnwrap(vit.nodes.first { $0.op == .attention })
        XCTAssertEqual(attn.args["qknorm"], .word("rms"))
        // aMLP: the head is tied to the embedding, counted once.
        let amlp = try XCTUnwrap(Support.compileSpec("amlp.arch").graph)
        XCTAssertFalse(amlp.params.contains { $0.name == "head.weight" })
        // LSTM: PyTorch's parameter names.
        let lstm = try XCTUnwrap(Support.compileSpec("lstm.arch", bindings: ["seq": 3]).graph)
        XCTAssertEqual(lstm.params.filter { $0.name.hasPrefix("rnn.") }.map(\.name), [
            "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
            "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
        ])
    }
}
