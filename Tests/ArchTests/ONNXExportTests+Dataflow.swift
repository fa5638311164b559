import XCTest
@testable import ArchExport

/// The ops of the dataflow merge as standard ONNX ops: which nodes, with which constants and
/// attributes (their numerics are checked by ONNX Runtime in ONNXCrossCheckTests).
extension ONNXExportTests {
    func testDataflowOpsAreStandardOps() throws {
        let model = try export("""
            model m
            input image 2x4x4
            ln: layernorm dim 1
            branch pooled { avg: mean dim 2 3 keep }
            sub pooled
            flip: rsub 1
            ls: mul param [2, 1, 1]
            cols: unfold 2 stride 2
            img: fold 4x4 2 stride 2
            v: view [batch * 2, 16]
            s: slice dim 1 start 1 end -2 step 3
            i: index dim 1 at -1
            """, bindings: [:])
        let nodes = Dictionary(model.graph.nodes.map { ($0.outputs[0], $0) }, uniquingKeysWith: { a, _ in a })
        func node(_ name: String) throws -> NodeProto { try XCTUnwrap(nodes[name], "\(name) in \(nodes.keys.sorted())") }

        // LayerNorm2d: the channels moved last, normalised, moved back.
        let ln = try node("ln"), norm = try node(ln.inputs[0]), toLast = try node(norm.inputs[0])
        XCTAssertEqual([toLast.opType, norm.opType, ln.opType], ["Transpose", "LayerNormalization", "Transpose"])
        XCTAssertEqual(toLast.inputs, ["image"])
        XCTAssertEqual(toLast.attributes, [.ints("perm", [0, 2, 3, 1])])
        XCTAssertEqual(ln.attributes, [.ints("perm", [0, 3, 1, 2])])
        XCTAssertEqual(norm.inputs, ["ln/Transpose", "ln.weight", "ln.bias"])
        // Reductions take their axes as an input (opset 18).
        let avg = try node("avg")
        XCTAssertEqual(avg.opType, "ReduceMean")
        XCTAssertEqual(avg.inputs, ["ln", "const[2,3]"])
        XCTAssertEqual(avg.attributes, [.i("keepdims", 1)])
        // rsub 1 is 1 - x; a learned operand is the initializer named by the label, in its own shape.
        XCTAssertEqual(try node("flip").opType, "Sub")
        XCTAssertEqual(try node("flip").inputs[0], "const(1.0)")
        // (the layer's output, named like its tensor, is `ls_1`).
        XCTAssertEqual(try node("ls_1").opType, "Mul")
        XCTAssertEqual(try node("ls_1").inputs, ["flip", "ls"])
        XCTAssertEqual(model.graph.initializers.first { $0.name == "ls" }?.dims, [2, 1, 1])
        // unfold: a grouped Conv with a one-hot weight [c kh kw, 1, kh, kw], then the blocks in one dimension.
        let cols = try node("cols"), conv = try node(cols.inputs[0])
        XCTAssertEqual([conv.opType, cols.opType], ["Conv", "Reshape"])
        XCTAssertEqual(cols.inputs[1], "const[0,8,-1]")
        XCTAssertTrue(conv.attributes.contains(.i("group", 2)) && conv.attributes.contains(.ints("strides", [2, 2])), "\(conv.attributes)")
        let weight = try XCTUnwrap(model.graph.initializers.first { $0.name == conv.inputs[1] })
        XCTAssertEqual(weight.dims, [8, 1, 2, 2])
        XCTAssertEqual(weight.data, .floats((0..<8).flatMap { row in (0..<4).map { $0 == row % 4 ? 1 : 0 } }))
        // fold: Col2Im with the image's size and the kernel as inputs.
        let img = try node("img")
        XCTAssertEqual(img.opType, "Col2Im")
        XCTAssertEqual(img.inputs, ["cols", "const[4,4]", "const[2,2]"])
        XCTAssertEqual(img.attributes, [.ints("dilations", [1, 1]), .ints("pads", [0, 0, 0, 0]), .ints("strides", [2, 2])])
        // view: a Reshape that infers the batch-bearing size; slice and index keep negative positions.
        XCTAssertEqual(try node("v").inputs, ["img", "const[-1,16]"])
        XCTAssertEqual(try node("s").inputs, ["v", "const[1]", "const[-2]", "const[1]", "const[3]"])
        XCTAssertEqual(try node("i").opType, "Gather")
        XCTAssertEqual(try node("i").inputs, ["s", "const(-1)"])
        XCTAssertEqual(try node("i").attributes, [.i("axis", 1)])
    }
}
