import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver

/// Layout, sequence and combining ops; groups (residual, parallel) and symbolic dimensions.
final class TensorShapeRuleTests: XCTestCase {
    func testFlattenReshapeTransposePermute() throws {
        XCTAssertEqual(Compiled.of("input image 64x7x7\nflatten")?.shape, [1, 3136])
        XCTAssertEqual(Compiled.of("input x 2x3x4x5\nflatten start 2")?.shape, [1, 2, 60])
        XCTAssertEqual(Compiled.of("input x 2x3x4\nflatten start 0 end 1", bindings: ["batch": 3])?.shape, [6, 3, 4])
        XCTAssertEqual(Compiled.of("input x 2x3x4\nflatten start -2")?.shape, [1, 2, 12])
        XCTAssertEqual(Compiled.errors("input x 2x3\nflatten start 2 end 1").first, "flatten start 2 comes after end 1")
        XCTAssertEqual(Compiled.of("input x 196x768\nreshape [14, 14, -1]")?.shape, [1, 14, 14, 768])
        XCTAssertEqual(Compiled.of("input x 196x768\nreshape -1")?.shape, [1, 150528])
        XCTAssertEqual(Compiled.of("input x 196x768\nreshape 4x49x768")?.shape, [1, 4, 49, 768])
        XCTAssertEqual(Compiled.errors("input x 196x768\nreshape [5, -1]").first,
                       "cannot infer the -1 in reshape: 150528 elements do not split into 5")
        XCTAssertEqual(Compiled.errors("input x 196x768\nreshape [-1, -1]").first, "reshape may leave only one size as -1")
        XCTAssertEqual(Compiled.errors("input x 6\nreshape [4, 2]").first,
                       "reshape to [4, 2] needs 8 elements per example, but the input [1, 6] has 6")
        let t = try XCTUnwrap(Compiled.of("input x 196x768\ntranspose 1 2"))
        XCTAssertEqual(t.shape, [1, 768, 196])
        XCTAssertEqual(t.other, 0)
        XCTAssertEqual(Compiled.of("input x 196x768\ntranspose -1 -2")?.shape, [1, 768, 196])
        XCTAssertEqual(Compiled.errors("input x 196x768\ntranspose 1 3").first, "dimension 3 is out of range for a rank-3 tensor")
        XCTAssertEqual(Compiled.of("input image 96x56x48\npermute 0 2 3 1")?.shape, [1, 56, 48, 96])
        XCTAssertEqual(Compiled.errors("input image 96x56x48\npermute 0 1").first,
                       "permute 0 1 is not an ordering of the 4 dimensions 0...3")
    }

    func testEmbeddingsAndPositions() throws {
        let e = try XCTUnwrap(Compiled.of("input ids [seq] tokens\nwte: embed 100 16", bindings: ["batch": 1, "seq": 8]))
        XCTAssertEqual(e.shape, [1, 8, 16])
        XCTAssertEqual(e.params, ["wte.weight [100, 16]"])
        XCTAssertEqual(e.macs, 0)
        let f = try XCTUnwrap(Compiled.of("input ids [seq] tokens\ninput tt [seq] tokens\nembed 100 16\ntype: embed 2 16 from tt",
                                          bindings: ["batch": 1, "seq": 8]))
        XCTAssertEqual(f.shape, [1, 8, 16])
        XCTAssertEqual(f.params, ["0.weight [100, 16]", "type.weight [2, 16]"])
        XCTAssertEqual(Compiled.errors("input x 8x4\nembed 100 16").first,
                       "embed expects token ids, but its input holds floating-point values [1, 8, 4]")
        // pos: a bare parameter named by the label (or pos_embed), an nn.Embedding table, or nothing.
        let tokens = "input ids 8 tokens\nembed 100 16\n"
        XCTAssertEqual(Compiled.of(tokens + "p: pos learned")?.params.last, "p [1, 8, 16]")
        XCTAssertEqual(Compiled.of(tokens + "pos")?.params.last, "pos_embed [1, 8, 16]")
        XCTAssertEqual(Compiled.of(tokens + "p: pos learned max 10")?.params.last, "p [1, 10, 16]")
        let table = try XCTUnwrap(Compiled.of(tokens + "p: pos table max 32"))
        XCTAssertEqual(table.params.last, "p.weight [32, 16]")
        XCTAssertEqual(table.shape, [1, 8, 16])
        XCTAssertEqual(Compiled.of(tokens + "p: pos sinusoidal")?.params.count, 1)
        XCTAssertEqual(Compiled.errors(tokens + "pos table").first, "pos table needs 'max N', the longest sequence")
        XCTAssertEqual(Compiled.errors(tokens + "pos learned max 4").first, "the sequence has 8 positions but pos allows at most 4")
    }

    func testClassTokenAndTake() throws {
        let c = try XCTUnwrap(Compiled.of("input x 196x768\nclass_token: cls token"))
        XCTAssertEqual(c.shape, [1, 197, 768])
        XCTAssertEqual(c.params, ["class_token [1, 1, 768]"])
        XCTAssertEqual(Compiled.of("input x 196x768\ncls")?.params, ["cls_token [1, 1, 768]"])
        XCTAssertEqual(Compiled.of("input x 196x768\ncls\ntake cls")?.shape, [1, 768])
        XCTAssertEqual(Compiled.of("input x 196x768\ntake last")?.shape, [1, 768])
        let mean = try XCTUnwrap(Compiled.of("input x 7x7x96\ntake mean"))
        XCTAssertEqual(mean.shape, [1, 96])
        XCTAssertEqual(mean.other, 7 * 7 * 96)
    }

    func testAddMulConcat() throws {
        let a = try XCTUnwrap(Compiled.of("input x 4x8\na: linear 8\nlinear 8\nadd a"))
        XCTAssertEqual(a.shape, [1, 4, 8])
        XCTAssertEqual(a.other, 32)
        // Broadcasting a size-1 dimension.
        XCTAssertEqual(Compiled.of("input x 4x8\ns: linear 1\nlinear 8\nmul s")?.shape, [1, 4, 8])
        XCTAssertEqual(Compiled.errors("input x 4x8\ns: linear 3\nlinear 8\nadd s").first, "cannot add [1, 4, 8] and [1, 4, 3] ('s')")
        let c = try XCTUnwrap(Compiled.of("input image 3x8x8\na: conv 1 4\nconv 1 6\nconcat a"))
        XCTAssertEqual(c.shape, [1, 10, 8, 8])
        XCTAssertEqual(Compiled.of("input image 3x8x8\nconv 1 3\nconcat image dim -1")?.shape, [1, 3, 8, 16])
        XCTAssertEqual(Compiled.errors("input image 3x8x8\nconv 1 4\nconcat image dim 2").first,
                       "cannot concatenate [1, 4, 8, 8] and [1, 3, 8, 8] along dimension 2")
        XCTAssertEqual(Compiled.errors("input image 3x8x8\nconcat skip").first, "no earlier layer or input is labelled 'skip'")
    }

    func testResidualWithShortcut() throws {
        let r = try XCTUnwrap(Compiled.of("""
        input image 16x8x8
        res: residual {
          conv 3 32 stride 2 pad 1 bias off
          batchnorm
        } shortcut {
          conv 1 32 stride 2 bias off
          batchnorm
        }
        """))
        XCTAssertEqual(r.shape, [1, 32, 4, 4])
        XCTAssertEqual(r.params.filter { !$0.hasSuffix("buffer") },
                       ["res.0.weight [32, 16, 3, 3]", "res.1.weight [32]", "res.1.bias [32]", "res.2.weight [32, 16, 1, 1]", "res.3.weight [32]", "res.3.bias [32]"])
        XCTAssertEqual(r.macs, 32 * 16 * 16 * 9 + 32 * 16 * 16)
        XCTAssertEqual(r.graph.nodes.last?.op, .add)
        XCTAssertEqual(r.graph.nodes.last?.inputs.count, 2)
        // An unlabelled residual adds no level to the names; an empty shortcut is the identity.
        let plain = try XCTUnwrap(Compiled.of("input x 8\nresidual { linear 8 } shortcut { }\nresidual { fc: linear 8 }"))
        XCTAssertEqual(plain.params, ["0.weight [8, 8]", "0.bias [8]", "fc.weight [8, 8]", "fc.bias [8]"])
        XCTAssertEqual(plain.other, 16)
        XCTAssertEqual(Compiled.errors("input image 16x8x8\nresidual { conv 3 32 stride 2 pad 1 }").first,
                       "residual cannot add [1, 32, 4, 4] and [1, 16, 8, 8]")
    }

    func testParallel() throws {
        let add = try XCTUnwrap(Compiled.of("input x 4x8\nparallel add { a: linear 8; b: linear 8 }"))
        XCTAssertEqual(add.shape, [1, 4, 8])
        XCTAssertEqual(add.params.count, 4)
        XCTAssertEqual(add.macs, 2 * 4 * 8 * 8)
        XCTAssertEqual(add.other, 32)
        let cat = try XCTUnwrap(Compiled.of("input x 4x8\np: parallel concat dim -1 { linear 3; linear 6 }"))
        XCTAssertEqual(cat.shape, [1, 4, 9])
        XCTAssertEqual(cat.params, ["p.0.weight [3, 8]", "p.0.bias [3]", "p.1.weight [6, 8]", "p.1.bias [6]"])
        XCTAssertEqual(Compiled.of("input x 4x8\nparallel mul { linear 1; linear 8 }")?.shape, [1, 4, 8])
        XCTAssertEqual(Compiled.errors("input x 4x8\nparallel { linear 3; linear 6 }").first,
                       "parallel branches give [1, 4, 3] and [1, 4, 6], which cannot be added")
    }

    func testSymbolicDimensions() throws {
        XCTAssertEqual(Compiled.of("input ids [seq] tokens\nembed 100 16", bindings: [:])?.dims, ["batch", "seq", "16"])
        XCTAssertEqual(Compiled.of("input ids [seq] tokens\nembed 100 16", bindings: ["batch": 3, "seq": 7])?.shape, [3, 7, 16])
        let text = "input ids [seq] tokens\nembed 100 16\ncls\nfc: linear 8"
        let open = try XCTUnwrap(Compiled.of(text, bindings: [:]))
        XCTAssertEqual(open.dims, ["batch", "seq+1", "8"])
        XCTAssertEqual(open.shape, [nil, nil, 8])
        XCTAssertNil(open.macs, "MACs depend on the unbound symbols")
        XCTAssertEqual(open.params.last, "fc.bias [8]")
        let bound = try XCTUnwrap(Compiled.of(text, bindings: ["batch": 2, "seq": 5]))
        XCTAssertEqual(bound.shape, [2, 6, 8])
        XCTAssertEqual(bound.macs, 2 * 6 * 16 * 8)
        // Affine arithmetic through the ops.
        XCTAssertEqual(Compiled.of("input x [seq, 4, 8]\nflatten", bindings: ["batch": 1])?.dims, ["1", "32*seq"])
        XCTAssertEqual(Compiled.of("input x [seq, 768]\nreshape [seq, 12, 64]", bindings: [:])?.dims, ["batch", "seq", "12", "64"])
        XCTAssertEqual(Compiled.of("input x [seq, 8]\na: cls\nb: cls\nflatten", bindings: ["batch": 1])?.dims, ["1", "8*seq+16"])
        XCTAssertEqual(Compiled.of("input image 3xHxW\nconv 3 8 stride 2 pad 1", bindings: ["batch": 1, "H": 32, "W": 20])?.shape, [1, 8, 16, 10])
        let conv = try XCTUnwrap(Compiled.of("input image 3xHxW\nconv 3 8 stride 2 pad 1", bindings: ["batch": 1]))
        XCTAssertEqual(conv.shape.prefix(2), [1, 8])
        XCTAssertNil(conv.shape[2])
        XCTAssertEqual(conv.params, ["0.weight [8, 3, 3, 3]", "0.bias [8]"])
        XCTAssertEqual(Compiled.errors("input x [seq]\nlinear 4", bindings: ["batch": 1]).first, "linear needs a fixed input width, but it is seq")
        XCTAssertEqual(Compiled.errors("input x [seq]\nlinear 4", bindings: ["seq": 0]).first, "--set gives seq the size 0; sizes must be positive")
    }
}
