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

    func testCommandWritesTheFile() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("archc-emit-\(getpid()).py").path
        let r = Support.run("emit", "torch", Support.specs.appendingPathComponent("mlp.arch").path, "-o", out)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains(#"self._add("fc1", nn.Linear(1024, 2048, bias=True))"#))
        XCTAssertEqual(Support.run("emit", "onnx", "x.arch").status, 2)
    }
}
