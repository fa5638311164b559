import Foundation
import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchIO
@testable import ArchRuntime
@testable import ArchExport

/// `archc import onnx`: the reader against the writer, round trips of exported fixtures (the same
/// outputs and parameter names), the ops it refuses, and damaged files.
final class ONNXImportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-onnx-import-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func fixture(_ name: String, _ file: String) -> String { Support.fixtures.appendingPathComponent("numerics/\(name)/\(file)").path }

    func testReaderReadsWhatTheWriterWrites() throws {
        let node = NodeProto("Conv", inputs: ["x", "w", ""], outputs: ["y"], name: "c",
                             attributes: [AttributeProto("pads", .ints([1, -1, 300])), AttributeProto("epsilon", .float(1e-5)),
                                          AttributeProto("mode", .string("linear")), AttributeProto("scales", .floats([1, 2.5])),
                                          AttributeProto("t", .tensor(TensorProto(name: "k", dims: [], data: .int64s([-7]))))])
        var graph = GraphProto(name: "g")
        graph.nodes = [node]
        graph.initializers = [TensorProto(name: "w", dims: [2, 10], data: .floats((0..<20).map { Float($0) / 3 })),
                              TensorProto(name: "s", dims: [3], data: .int64s([0, -1, 1 << 40]))]
        graph.inputs = [ValueInfoProto(name: "x", type: TypeProto(.float, TensorShapeProto([.param("batch"), .value(3)])))]
        graph.outputs = [ValueInfoProto(name: "y", type: TypeProto(.float, TensorShapeProto([.param("batch"), .value(2)])))]
        let model = ModelProto(irVersion: 8, opsets: [OperatorSetIdProto(version: 18)], producerName: "archc", producerVersion: "t", graph: graph)
        let decoded = try ONNXDecode.model(ProtoWriter.encode(model))
        XCTAssertEqual(decoded.opsets.map(\.version), [18])
        XCTAssertEqual(decoded.nodes, [node])
        XCTAssertEqual(decoded.initializers["w"], graph.initializers[0])
        XCTAssertEqual(decoded.initializers["s"], graph.initializers[1])
        XCTAssertEqual(decoded.inputs.map(\.dims), [[.param("batch"), .value(3)]])
        XCTAssertEqual(decoded.outputs, ["y"])
    }

    func testDamagedFilesAreErrors() throws {
        let cases: [([UInt8], String)] = [
            ([], "no graph (is this an ONNX model?)"),
            ([0x3A, 0x05, 0x01], "a field of 5 bytes where 1 remain"),
            ([0x08, 0x80], "a number cut short by the end of the data"),
            ([0x08] + Array(repeating: 0xFF, count: 10) + [0x01], "a number longer than 64 bits"),
            ([0x0B], "the wire type 3 at byte 1 (groups are not ONNX's)"),
            ([0x00], "a field number of 0 at byte 1"),
            // A graph whose initializer says 4 floats but holds 1.
            [0x3A, 0x0C, 0x2A, 0x0A, 0x08, 0x04, 0x10, 0x01, 0x22, 0x04, 0x00, 0x00, 0x80, 0x3F].withUnsafeBufferPointer { (Array($0), "tensor '' has shape [4] but holds 1 values") },
        ]
        for (bytes, message) in cases {
            XCTAssertThrowsError(try ONNXDecode.model(bytes), "\(bytes)") { XCTAssertEqual(($0 as? ProtoError)?.message, message) }
        }
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: path("bad.onnx")))
        let r = Support.run("import", "onnx", path("bad.onnx"), "-o", path("m.arch"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(path("bad.onnx")): error: not a valid ONNX file: "), r.stderr)
        XCTAssertEqual(Support.run("import", "onnx", path("none.onnx"), "-o", path("m.arch")).stderr, "\(path("none.onnx")): error: cannot read the file\n")
        XCTAssertEqual(Support.run("import", "tflite", "m", "-o", "x").status, 2)
        XCTAssertEqual(Support.run("import", "onnx", path("bad.onnx")).status, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["bad.onnx"])
    }

    /// A fixture exported and imported back: the same layers and parameter names, the same outputs.
    func roundTrip(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let spec = fixture(name, "model.arch"), weights = fixture(name, "weights.safetensors")
        XCTAssertEqual(Support.run("export", "onnx", spec, "--weights", weights, "-o", path("\(name).onnx"), "--dynamic", "batch").status, 0)
        let r = Support.run("import", "onnx", path("\(name).onnx"), "-o", path("\(name).arch"), "--weights-out", path("\(name).safetensors"))
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        let original = try SafeTensors.read(path: weights).filter { !$0.name.hasSuffix("num_batches_tracked") }
        let imported = try SafeTensors.read(path: path("\(name).safetensors"))
        XCTAssertEqual(Set(imported.map(\.name)), Set(original.map(\.name)), file: file, line: line)
        for (n, t) in original { XCTAssertEqual(imported.first { $0.name == n }?.tensor.floats, t.floats, n, file: file, line: line) }
        let input = "\(try XCTUnwrap(Pipeline.compile(path: spec, bindings: [:]).graph).inputs[0].name)=\(fixture(name, "input.npy"))"
        XCTAssertEqual(Support.run("run", spec, "--weights", weights, "--input", input, "--output", path("a.npy")).status, 0)
        let run = Support.run("run", path("\(name).arch"), "--weights", path("\(name).safetensors"), "--input", input, "--output", path("b.npy"))
        XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)
        let (a, b) = (try NPY.read(path: path("a.npy")), try NPY.read(path: path("b.npy")))
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        XCTAssertLessThanOrEqual(largestDifference(a.floats, b.floats), 1e-6, file: file, line: line)
        return try String(contentsOfFile: path("\(name).arch"), encoding: .utf8)
    }

    func testResNetComesBackWithResidualBlocksAndNames() throws {
        let spec = try roundTrip("resnet_small")
        XCTAssertTrue(spec.contains("""
            maxpool 3 stride 2 pad 1
            residual {
              layer1.0.conv1: conv 3 8 pad 1 bias off
              layer1.0.bn1: batchnorm eps 1e-05
              relu
              layer1.0.conv2: conv 3 8 pad 1 bias off
              layer1.0.bn2: batchnorm eps 1e-05
            }
            relu
            residual {
              layer2.0.conv1: conv 3 16 stride 2 pad 1 bias off
            """), spec)
        XCTAssertTrue(spec.contains("""
            } shortcut {
              layer2.0.downsample.0: conv 1 16 stride 2 bias off
              layer2.0.downsample.1: batchnorm eps 1e-05
            }
            """), spec)
        XCTAssertTrue(spec.hasSuffix("globalpool keep\nflatten\nfc: linear 10\n"), spec)
    }

    func testMoreFamiliesRoundTrip() throws {
        XCTAssertTrue(try roundTrip("unet_small").contains("concat enc1.2 dim 1\n"))
        XCTAssertTrue(try roundTrip("mlp_small").contains("\ngelu\n"), "GELU's formula read back as gelu")
        XCTAssertTrue(try roundTrip("mobilenet_small").contains("relu6"))
        XCTAssertTrue(try roundTrip("convmixer_small").contains("groups 32"))
    }

    /// Arithmetic with a number, reductions, a slice and an index come back as the lines they were,
    /// and the imported spec computes what the original does.
    func testTensorOpsRoundTrip() throws {
        let body = ["slice dim 1 start 1 step 2", "sub 0.5", "rsub 1", "div 4", "mul 2.5", "max dim 2 keep", "sum dim 2", "head: linear 4", "index dim 1 at -1"]
        try (["model tensor_ops", "input x 6x8"] + body).joined(separator: "\n").write(toFile: path("t.arch"), atomically: true, encoding: .utf8)
        XCTAssertEqual(Support.run("init", path("t.arch"), "-o", path("t.safetensors")).status, 0)
        XCTAssertEqual(Support.run("export", "onnx", path("t.arch"), "--weights", path("t.safetensors"), "-o", path("t.onnx"), "--dynamic", "batch").status, 0)
        let r = Support.run("import", "onnx", path("t.onnx"), "-o", path("u.arch"), "--weights-out", path("u.safetensors"))
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: path("u.arch"), encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.suffix(body.count)), body)
        try NPY.write(Tensor(shape: [2, 6, 8], floats: (0..<96).map { Float(sin(Double($0))) }), to: path("x.npy"))
        for (spec, weights, out) in [("t.arch", "t.safetensors", "a.npy"), ("u.arch", "u.safetensors", "b.npy")] {
            XCTAssertEqual(Support.run("run", path(spec), "--weights", path(weights), "--input", "x=\(path("x.npy"))", "--output", path(out)).status, 0)
        }
        let (a, b) = (try NPY.read(path: path("a.npy")), try NPY.read(path: path("b.npy")))
        XCTAssertEqual(a.shape, [2])
        XCTAssertEqual(a.floats, b.floats)
    }

    func testOpsWithoutACounterpartAreNamed() throws {
        let spec = fixture("vit_small", "model.arch")
        XCTAssertEqual(Support.run("export", "onnx", spec, "-o", path("v.onnx")).status, 0)
        let r = Support.run("import", "onnx", path("v.onnx"), "-o", path("v.arch"))
        XCTAssertEqual(r.status, 1)
        // Attention's packed projection is split into q, k and v by Split (the class token's Gather is `index dim 1 at 0`).
        XCTAssertEqual(r.stderr, "error: \(path("v.onnx")): 2 nodes have ops archc has no counterpart for\n"
                                 + "note: node 'encoder.layers.encoder_layer_0.self_attention/Split': Split\n"
                                 + "note: node 'encoder.layers.encoder_layer_1.self_attention/Split': Split\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("v.arch")))
    }

    /// Damaged models: decoded and imported, an error or a spec, never a trap.
    func testMutatedModelsDecodeOrFail() throws {
        let spec = fixture("resnet_small", "model.arch")
        XCTAssertEqual(Support.run("export", "onnx", spec, "-o", path("r.onnx")).status, 0)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("r.onnx"))))
        var rng = FuzzTests.Random(state: FuzzTests.seed ^ 0x0_1A2B)
        var imported = 0
        for _ in 0..<300 {
            var b = original
            for _ in 0..<(1 + rng.below(4)) {
                let i = rng.below(b.count)
                switch rng.below(4) {
                case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b.removeSubrange(i..<min(b.count, i + 1 + rng.below(8)))
                case 2: b = Array(b.prefix(i))
                default: b[i] ^= 0x80
                }
                if b.isEmpty { break }
            }
            guard let m = try? ONNXDecode.model(b) else { continue }
            if (try? ONNXImport.spec(from: m, modelName: "m", source: "m.onnx")) != nil { imported += 1 }
        }
        XCTAssertGreaterThan(imported, 0, "some damage leaves a model that still imports")
    }
}
