import Foundation
import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchIO
@testable import ArchRuntime
@testable import ArchExport

/// `archc export onnx`: the model's structure and names, the command's errors. The numerics are
/// checked by ONNX Runtime in ONNXCrossCheckTests.
final class ONNXExportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-onnx-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func fixture(_ name: String, _ file: String) -> String { Support.fixtures.appendingPathComponent("numerics/\(name)/\(file)").path }

    /// The model of a spec in memory, with archc init's weights.
    func export(_ text: String, bindings: [String: Int] = ["batch": 1]) throws -> ModelProto {
        let c = Support.compile(text, bindings: bindings)
        XCTAssertTrue(c.succeeded, Support.rendered(c))
        let g = try XCTUnwrap(c.graph)
        let bound = WeightStore.bind(g, tensors: Initializer.tensors(for: g, seed: 0), file: "init")
        return try ONNXExport.model(of: g, weights: try XCTUnwrap(bound.store).values, options: .init(producerVersion: "test", source: "test"))
    }

    /// A new argument of an op must reach the export (or be refused there): the list it checks is the ops' signatures.
    func testHandledArgumentsAreTheOpsSignatures() {
        for op in OpRegistry.all where op.body == .none {
            XCTAssertEqual(Exporter.handledArguments(op.kind), Set((op.positional + op.options).map(\.name)), "\(op.name)")
        }
    }

    func testResNetKeepsBatchnormsWithTheFilesNamesAndValues() throws {
        let spec = fixture("resnet_small", "model.arch"), weights = fixture("resnet_small", "weights.safetensors")
        let r = Support.run("export", "onnx", spec, "--weights", weights, "-o", path("r.onnx"), "--dynamic", "batch")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("wrote \(path("r.onnx")): ONNX opset 18, "), r.stdout)
        XCTAssertTrue(r.stdout.contains("inputs: image [batch, 3, 32, 32]"), r.stdout)
        let g = try XCTUnwrap(Pipeline.compile(path: spec, bindings: [:]).graph)
        let bound = WeightStore.bind(g, tensors: try SafeTensors.read(path: weights), file: weights)
        let model = try ONNXExport.model(of: g, weights: try XCTUnwrap(bound.store).values,
                                         options: .init(producerVersion: "0.1.0", source: "\(spec) with weights \(weights)"))
        XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: path("r.onnx"))) == Data(try ONNXExport.serialize(model)), "the file is the model")
        let nodes = model.graph.nodes
        XCTAssertEqual(nodes.filter { $0.opType == "BatchNormalization" }.count, g.nodes.filter { $0.op == .batchnorm }.count)
        XCTAssertEqual(nodes.filter { $0.opType == "Conv" }.count, g.nodes.filter { $0.op == .conv }.count)
        let bn = try XCTUnwrap(nodes.first { $0.outputs == ["layer1.0.bn1"] })
        XCTAssertEqual(bn.inputs, ["layer1.0.conv1", "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var"])
        XCTAssertEqual(bn.docString, "batchnorm at \(g.nodes.first { $0.path == ["layer1", "0", "bn1"] }!.loc.description)")
        // Every parameter is an initializer under its state_dict name, with the file's values; the step counters are left out.
        let initializers = Dictionary(uniqueKeysWithValues: model.graph.initializers.map { ($0.name, $0) })
        for (name, tensor) in try SafeTensors.read(path: weights) where !name.hasSuffix("num_batches_tracked") {
            let t = try XCTUnwrap(initializers[name], name)
            XCTAssertEqual(t.dims, tensor.shape.map(Int64.init), name)
            XCTAssertEqual(t.data, .floats(tensor.floats), name)
        }
        XCTAssertFalse(initializers.keys.contains { $0.hasSuffix("num_batches_tracked") })
        XCTAssertEqual(model.graph.inputs.map(\.type.shape.dims), [[.param("batch"), .value(3), .value(32), .value(32)]])
        XCTAssertEqual(model.graph.outputs.map(\.name), ["fc"])
        XCTAssertEqual(model.graph.outputs[0].type.shape.dims, [.param("batch"), .value(10)])
        XCTAssertEqual(model.opsets.map(\.version), [18])
        XCTAssertEqual(model.irVersion, 8)
    }

    /// Netron shows the user's names: each parameter under its state_dict name (even where a layer has
    /// the same label, as ViT's `class_token: cls token`), each layer's output under its path.
    func testEveryFixtureKeepsParameterAndLayerNames() throws {
        let root = Support.fixtures.appendingPathComponent("numerics")
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let text = try String(contentsOfFile: root.appendingPathComponent("\(name)/model.arch").path, encoding: .utf8)
            let model = try export(text, bindings: [:])
            let g = try XCTUnwrap(Support.compile(text, bindings: [:]).graph)
            let initializers = Set(model.graph.initializers.map(\.name)), outputs = Set(model.graph.nodes.flatMap(\.outputs))
            for p in g.params where !p.name.hasSuffix("num_batches_tracked") {
                XCTAssertTrue(initializers.contains(p.name), "\(name): \(p.name)")
            }
            for n in g.nodes {
                let path = n.path.joined(separator: ".")
                XCTAssertTrue(outputs.contains(path) || outputs.contains(path + "_1"), "\(name): \(path)")
            }
            XCTAssertEqual(Set(model.graph.nodes.map(\.name)).count, model.graph.nodes.count, "\(name): node names are unique")
        }
    }

    func testFixedSizesAreConstantsAndSymbolicOnesReadAtRunTime() throws {
        let text = try String(contentsOfFile: fixture("gpt2_small", "model.arch"), encoding: .utf8)
        let fixed = try export(text, bindings: ["batch": 2, "seq": 8])
        XCTAssertEqual(fixed.graph.inputs[0].type.shape.dims, [.value(2), .value(8)])
        XCTAssertEqual(fixed.graph.inputs[0].type.elementType, .int64)
        XCTAssertFalse(fixed.graph.nodes.contains { $0.opType == "Shape" || $0.opType == "Range" })
        let mask = try XCTUnwrap(fixed.graph.initializers.first { $0.name == "causal_mask[8,8]" })
        guard case .floats(let m) = mask.data else { return XCTFail("a float mask") }
        XCTAssertEqual(m[0 * 8 + 1], -.infinity)
        XCTAssertEqual(m[7 * 8 + 7], 0)
        XCTAssertEqual(m.filter { $0 == 0 }.count, 36, "the lower triangle")
        XCTAssertEqual(fixed.graph.nodes.filter { $0.inputs.contains("causal_mask[8,8]") }.count, 2, "one mask shared by the two layers")

        let dynamic = try export(text, bindings: [:])
        XCTAssertEqual(dynamic.graph.inputs[0].type.shape.dims, [.param("batch"), .param("seq")])
        XCTAssertTrue(dynamic.graph.nodes.contains { $0.opType == "Range" })
        let shapeReads = dynamic.graph.nodes.filter { $0.opType == "Shape" }
        XCTAssertEqual(shapeReads.count, 1, "seq read once, from the input")
        XCTAssertEqual(shapeReads.first?.inputs, ["input_ids"])
        // The heads are split by reshapes that copy the batch and the sequence.
        let reshapes = dynamic.graph.nodes.filter { $0.opType == "Reshape" }.map { $0.inputs[1] }
        XCTAssertTrue(reshapes.contains("const[0,0,4,8]"), "\(reshapes)")
    }

    func testSymbolicSizesAreCopiedInferredOrReadFromAShape() throws {
        let model = try export("model m\ninput x [a, b, 4]\nflatten start 1 end 2\nt: cls token\nflatten start 0 end 1\n", bindings: [:])
        let reshapes = model.graph.nodes.filter { $0.opType == "Reshape" }
        // [batch, a, b, 4] -> [batch, a*b, 4]: the batch copied, the tokens inferred.
        // [batch, a*b + 1, 4] -> [batch*(a*b + 1), 4]: the first size inferred.
        XCTAssertEqual(reshapes.map { $0.inputs[1] }, ["const[0,-1,4]", "const[-1,4]"])
        // The class token is repeated over the batch, read from the input's shape.
        let expand = try XCTUnwrap(model.graph.nodes.first { $0.opType == "Expand" })
        let shape = try XCTUnwrap(model.graph.nodes.first { $0.outputs == [expand.inputs[1]] })
        XCTAssertEqual(shape.opType, "Concat")
        let reads = model.graph.nodes.filter { $0.opType == "Shape" }
        XCTAssertEqual(reads.map(\.inputs), [["x"]])
        XCTAssertEqual(reads.first?.attributes, [.i("start", 0), .i("end", 1)])
        XCTAssertEqual(shape.inputs, [reads[0].outputs[0], "const[1,4]"])
        XCTAssertEqual(model.graph.outputs.map(\.type.shape.dims), [[.param("batch*(a*b+1)"), .value(4)]])
    }

    /// ONNX's external data: tensors of 1 kB or more in MODEL.onnx.data at page-aligned offsets, the rest inline.
    func testExternalDataKeepsTheWeightsBesideTheModel() throws {
        let spec = fixture("resnet_small", "model.arch"), weights = fixture("resnet_small", "weights.safetensors")
        let r = Support.run("export", "onnx", spec, "--weights", weights, "-o", path("r.onnx"), "--external-data")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("; weights in \(path("r.onnx.data")) ("), r.stdout)
        let g = try XCTUnwrap(Pipeline.compile(path: spec, bindings: ["batch": 1]).graph)
        var model = try ONNXExport.model(of: g, weights: try XCTUnwrap(WeightStore.bind(g, tensors: try SafeTensors.read(path: weights), file: weights).store).values,
                                         options: .init(producerVersion: "0.1.0", source: "\(spec) with weights \(weights)"))
        let moved = ONNXExport.externalize(&model, location: "r.onnx.data")
        XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: path("r.onnx"))) == Data(try ONNXExport.serialize(model)))
        let data = try Data(contentsOf: URL(fileURLWithPath: path("r.onnx.data")))
        XCTAssertEqual(moved.map(\.name).first, "conv1.weight")
        for t in moved {
            let e = try XCTUnwrap(t.external)
            XCTAssertEqual(e.offset % 4096, 0)
            XCTAssertEqual(e.length, t.byteCount)
            XCTAssertGreaterThanOrEqual(t.byteCount, 1024)
            guard case .floats(let v) = t.data else { return XCTFail(t.name) }
            let stored = data[e.offset..<(e.offset + e.length)].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            XCTAssertEqual(stored, v, t.name)
        }
        XCTAssertEqual(data.count, moved.last.map { $0.external!.offset + $0.byteCount })
        XCTAssertTrue(model.graph.initializers.contains { $0.external == nil && $0.name == "bn1.weight" }, "small tensors stay inline")
        // A model that cannot be written leaves no weights file either.
        XCTAssertEqual(Support.run("export", "onnx", spec, "-o", path("missing/m.onnx"), "--external-data").status, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["r.onnx", "r.onnx.data"])
    }

    func testUsageErrors() {
        let spec = fixture("mlp_small", "model.arch")
        for (args, message) in [
            (["export"], "error: export needs a format: onnx"),
            (["export", "tflite", spec, "-o", path("m")], "error: unknown export format 'tflite'; 'onnx' is the one there is"),
            (["export", "onnx", spec], "error: export onnx needs one FILE and -o MODEL.onnx"),
            (["export", "onnx", spec, "-o", "-"], "error: export writes an ONNX model, a binary file: give -o a file name, not '-' (standard output)"),
            (["export", "onnx", spec, "-o", path("m"), "--dynamic"], "error: --dynamic needs a value"),
            (["export", "onnx", spec, "-o", path("m"), "--set", "batch=2", "--dynamic", "batch"],
             "error: --dynamic batch and --set batch=2 contradict each other; give one"),
            (["export", "onnx", spec, "-o", path("m"), "--wieghts", "w"], "error: unknown option '--wieghts'; did you mean '--weights'?"),
        ] {
            let r = Driver.run(args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix(message + "\n"), "\(args): \(r.stderr)")
        }
        XCTAssertTrue(Driver.run(["export", "--help"]).stdout.hasPrefix("USAGE: archc export onnx FILE -o MODEL.onnx"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testSizeErrors() throws {
        let gpt = fixture("gpt2_small", "model.arch")
        var r = Support.run("export", "onnx", gpt, "-o", path("m.onnx"))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: the size 'seq' is not bound\n"
                       + "note: give --set seq=N to fix it in the model, or --dynamic seq to keep it symbolic\n1 error generated.\n")
        r = Support.run("export", "onnx", gpt, "-o", path("m.onnx"), "--dynamic", "sq", "--set", "seq=4")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: --dynamic sq: the spec has no size named 'sq'; did you mean 'seq'?\nnote: its sizes: batch, seq\n"
                       + "1 error generated.\n")
        // Swin's windows need the grid: a symbolic height is refused with the fix.
        let spec = path("w.arch")
        try "model w\ninput image [3, h, 32]\nembed: patch 4 dim 16 grid\nattn: attention heads 2 window 4\n".write(toFile: spec, atomically: true, encoding: .utf8)
        r = Support.run("export", "onnx", spec, "-o", path("m.onnx"), "--dynamic", "h")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: attention at \(spec):4:1 needs the grid's height, width and channels known, but the input is [1, h/4, 8, 16]\n"
                                         + "note: bind h with --set h=VALUE instead of keeping it symbolic with --dynamic\n"), r.stderr)
        XCTAssertEqual(Support.run("export", "onnx", spec, "-o", path("m.onnx"), "--set", "h=32").status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["m.onnx", "w.arch"])
    }

    func testWeightAndOutputErrorsLeaveNoFile() throws {
        let spec = fixture("resnet_small", "model.arch")
        var r = Support.run("export", "onnx", spec, "--weights", fixture("vit_small", "weights.safetensors"), "-o", path("m.onnx"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("error: \(fixture("vit_small", "weights.safetensors")): missing tensor 'conv1.weight' of shape [8, 3, 7, 7]"), r.stderr)
        XCTAssertTrue(r.stderr.contains("does not fit the network: "), r.stderr)
        r = Support.run("export", "onnx", spec, "--weights", path("none.safetensors"), "-o", path("m.onnx"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(path("none.safetensors")): error: cannot read the file"), r.stderr)
        r = Support.run("export", "onnx", spec, "-o", path("missing/m.onnx"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(path("missing/m.onnx")): error: cannot create a temporary file in \(path("missing"))"), r.stderr)
        r = Support.run("export", "onnx", spec, "-o", dir.path)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "\(dir.path): error: is a directory\n")
        r = Support.run("export", "onnx", path("nothing.arch"), "-o", path("m.onnx"))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: \(path("nothing.arch")): no such file\n1 error generated.\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no output, no temporary file")
    }

    func testWithoutWeightsUsesInitsWeightsForTheSeed() throws {
        let spec = fixture("mlp_small", "model.arch")
        XCTAssertEqual(Support.run("init", spec, "-o", path("w.safetensors"), "--seed", "7").status, 0)
        XCTAssertEqual(Support.run("export", "onnx", spec, "--seed", "7", "-o", path("a.onnx")).status, 0)
        XCTAssertEqual(Support.run("export", "onnx", spec, "--weights", path("w.safetensors"), "-o", path("b.onnx")).status, 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: path("a.onnx"))), b = try Data(contentsOf: URL(fileURLWithPath: path("b.onnx")))
        // After the model's doc string, which says where the weights came from, the files are the same: graph and opset.
        let docA = "\(spec) with archc init's weights (seed 7)", docB = "\(spec) with weights \(path("w.safetensors"))"
        XCTAssertNotNil(a.range(of: Data(docA.utf8)))
        XCTAssertNotNil(b.range(of: Data(docB.utf8)))
        XCTAssertEqual(a.range(of: Data(docA.utf8)).map { a.suffix(from: $0.upperBound) }, b.range(of: Data(docB.utf8)).map { b.suffix(from: $0.upperBound) })
    }
}
