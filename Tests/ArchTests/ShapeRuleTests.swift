import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver

/// What a small spec compiles to: the output shape, the parameters (`name [shape]`, buffers
/// marked), the parameter count and the MAC and other-op totals.
struct Compiled {
    var shape: [Int?]
    var dims: [String]
    var params: [String]
    var count: Int
    var macs: Int?
    var other: Int?
    var graph: Graph

    /// Compiles `text` with batch 1 (unless told otherwise) and requires success.
    static func of(_ text: String, bindings: [String: Int] = ["batch": 1], file: StaticString = #filePath, line: UInt = #line) -> Compiled? {
        let c = Support.compile(text, bindings: bindings)
        guard c.succeeded, let g = c.graph, let o = g.output else {
            XCTFail("does not check:\n\(Support.rendered(c))", file: file, line: line)
            return nil
        }
        let shape = g.values[o].shape
        var macs: Int? = 0, other: Int? = 0
        for n in g.nodes {
            macs = macs.flatMap { m in n.macs.map { m + $0 } }
            other = other.flatMap { m in n.otherOps.map { m + $0 } }
        }
        return Compiled(shape: shape.map(\.value), dims: shape.map(\.description),
                        params: g.params.map { "\($0.name) \($0.shape)\($0.isBuffer ? " buffer" : "")" },
                        count: g.parameterCount, macs: macs, other: other, graph: g)
    }

    /// The error messages of a spec that must not check.
    static func errors(_ text: String, bindings: [String: Int] = ["batch": 1], file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let c = Support.compile(text, bindings: bindings)
        XCTAssertFalse(c.succeeded, "checks but should not", file: file, line: line)
        return c.diagnostics.diagnostics.filter { $0.severity == .error }.map(\.message)
    }
}

/// Each op's shape rule, parameter formula and MAC formula against values derived by hand from
/// PyTorch's formulas (conv: floor((n + 2p - d(k-1) - 1) / s) + 1, and so on).
final class ShapeRuleTests: XCTestCase {
    func testLinear() throws {
        let a = try XCTUnwrap(Compiled.of("input x 10\nfc: linear 20"))
        XCTAssertEqual(a.shape, [1, 20])
        XCTAssertEqual(a.params, ["fc.weight [20, 10]", "fc.bias [20]"])
        XCTAssertEqual(a.count, 220)
        XCTAssertEqual(a.macs, 200)
        // On every position of a sequence; no bias.
        let b = try XCTUnwrap(Compiled.of("input x 7x10\nfc: linear 5 bias off", bindings: ["batch": 2]))
        XCTAssertEqual(b.shape, [2, 7, 5])
        XCTAssertEqual(b.params, ["fc.weight [5, 10]"])
        XCTAssertEqual(b.macs, 2 * 7 * 10 * 5)
        // A tied weight is the owner's, counted once.
        let t = try XCTUnwrap(Compiled.of("input ids 6 tokens\nwte: embed 100 16\nhead: linear 100 bias off tied wte"))
        XCTAssertEqual(t.shape, [1, 6, 100])
        XCTAssertEqual(t.params, ["wte.weight [100, 16]"])
        XCTAssertEqual(t.graph.nodes.last?.params, [0])
        XCTAssertEqual(t.macs, 6 * 16 * 100)
        XCTAssertEqual(Compiled.errors("input ids 6 tokens\nwte: embed 100 16\nhead: linear 99 tied wte").first,
                       "cannot tie this weight [99, 16] to 'wte'")
    }

    func testConv() throws {
        // floor((32 + 2 - 2 - 1) / 2) + 1 = 16
        let a = try XCTUnwrap(Compiled.of("input image 3x32x32\nc: conv 3 16 stride 2 pad 1"))
        XCTAssertEqual(a.shape, [1, 16, 16, 16])
        XCTAssertEqual(a.params, ["c.weight [16, 3, 3, 3]", "c.bias [16]"])
        XCTAssertEqual(a.macs, 16 * 16 * 16 * 3 * 9)
        // Dilation 2: floor((32 - 2 * 2 - 1) / 1) + 1 = 28
        let d = try XCTUnwrap(Compiled.of("input image 3x32x32\nc: conv 3 8 dilation 2 bias off"))
        XCTAssertEqual(d.shape, [1, 8, 28, 28])
        XCTAssertEqual(d.macs, 8 * 28 * 28 * 3 * 9)
        // Groups: weight [out, in / groups, k, k].
        let g = try XCTUnwrap(Compiled.of("input image 16x8x8\nc: conv 3 32 groups 4 pad 1 bias off"))
        XCTAssertEqual(g.shape, [1, 32, 8, 8])
        XCTAssertEqual(g.params, ["c.weight [32, 4, 3, 3]"])
        XCTAssertEqual(g.macs, 32 * 64 * 4 * 9)
        let dw = try XCTUnwrap(Compiled.of("input image 16x8x8\nc: conv 3 16 groups depthwise pad 1"))
        XCTAssertEqual(dw.params, ["c.weight [16, 1, 3, 3]", "c.bias [16]"])
        XCTAssertEqual(dw.macs, 16 * 64 * 9)
        // pad same keeps the size at stride 1.
        let same = try XCTUnwrap(Compiled.of("input image 3x10x10\nc: conv 5 4 pad same"))
        XCTAssertEqual(same.shape, [1, 4, 10, 10])
        XCTAssertEqual(same.macs, 4 * 100 * 3 * 25)
        // Per-axis sizes: h = floor((9 + 2 - 2 - 1) / 2) + 1 = 5, w = 9.
        let r = try XCTUnwrap(Compiled.of("input image 3x9x9\nc: conv 3x1 4 stride 2x1 pad 1x0"))
        XCTAssertEqual(r.shape, [1, 4, 5, 9])
        XCTAssertEqual(r.params, ["c.weight [4, 3, 3, 1]", "c.bias [4]"])
        XCTAssertEqual(r.macs, 4 * 45 * 3 * 3)
        // 1-d by the input's rank.
        let one = try XCTUnwrap(Compiled.of("input x 4x100\nc: conv 3 8 stride 2"))
        XCTAssertEqual(one.shape, [1, 8, 49])
        XCTAssertEqual(one.params, ["c.weight [8, 4, 3]", "c.bias [8]"])
        XCTAssertEqual(one.macs, 8 * 49 * 4 * 3)
        XCTAssertEqual(Compiled.errors("input image 6x8x8\nconv 3 8 groups 4").first, "groups 4 does not divide the 6 input channels")
        XCTAssertEqual(Compiled.errors("input image 3x8x8\nconv 3 8 stride 2 pad same").first, "pad same needs stride 1")
        XCTAssertEqual(Compiled.errors("input image 3x4x4\nconv 7 8").first,
                       "the kernel spans 7 positions, more than the 4 of the padded input (spatial axis 0)")
    }

    func testTransposedConv() throws {
        // (16 - 1) * 2 - 0 + (2 - 1) + 0 + 1 = 32; weight [in, out / groups, k, k]; MACs per input element.
        let a = try XCTUnwrap(Compiled.of("input image 64x16x16\nup: convt 2 32 stride 2"))
        XCTAssertEqual(a.shape, [1, 32, 32, 32])
        XCTAssertEqual(a.params, ["up.weight [64, 32, 2, 2]", "up.bias [32]"])
        XCTAssertEqual(a.macs, 64 * 16 * 16 * 32 * 4)
        // (5 - 1) * 2 - 2 + (3 - 1) + 1 + 1 = 10
        let b = try XCTUnwrap(Compiled.of("input image 4x5x5\nup: convt 3 8 stride 2 pad 1 outpad 1 bias off"))
        XCTAssertEqual(b.shape, [1, 8, 10, 10])
        XCTAssertEqual(b.params, ["up.weight [4, 8, 3, 3]"])
        XCTAssertEqual(b.macs, 4 * 25 * 8 * 9)
        // Groups and dilation: (5 - 1) + 2 * (3 - 1) + 1 = 9
        let g = try XCTUnwrap(Compiled.of("input image 4x5x5\nup: convt 3 8 groups 2 dilation 2"))
        XCTAssertEqual(g.shape, [1, 8, 9, 9])
        XCTAssertEqual(g.params, ["up.weight [4, 4, 3, 3]", "up.bias [8]"])
        XCTAssertEqual(g.macs, 4 * 25 * 4 * 9)
        XCTAssertEqual(Compiled.errors("input image 4x5x5\nconvt 3 8 stride 2 outpad 2").first,
                       "outpad 2 must be smaller than the stride or the dilation")
    }

    func testPooling() throws {
        // floor((112 + 2 - 3) / 2) + 1 = 56; other ops: one per output element and kernel position.
        let m = try XCTUnwrap(Compiled.of("input image 64x112x112\nmaxpool 3 stride 2 pad 1"))
        XCTAssertEqual(m.shape, [1, 64, 56, 56])
        XCTAssertEqual(m.params, [])
        XCTAssertEqual(m.macs, 0)
        XCTAssertEqual(m.other, 64 * 56 * 56 * 9)
        // The stride defaults to the kernel.
        XCTAssertEqual(Compiled.of("input image 8x8x8\navgpool 2")?.shape, [1, 8, 4, 4])
        XCTAssertEqual(Compiled.of("input x 8x9\nmaxpool 2")?.shape, [1, 8, 4])
        // ceil: ceil((6 - 3) / 2) + 1 = 3 where floor gives 2 (PyTorch's ceil_mode).
        XCTAssertEqual(Compiled.of("input image 1x6x6\nmaxpool 3 stride 2")?.shape, [1, 1, 2, 2])
        XCTAssertEqual(Compiled.of("input image 1x6x6\nmaxpool 3 stride 2 ceil")?.shape, [1, 1, 3, 3])
        XCTAssertEqual(Compiled.of("input image 1x7x7\navgpool 2 ceil on")?.shape, [1, 1, 4, 4])
        XCTAssertEqual(Compiled.errors("input image 1x6x6\nmaxpool 2 pad 2").first, "pad 2 is more than half the kernel 2")
        // Adaptive and global pooling.
        let ad = try XCTUnwrap(Compiled.of("input image 256x13x13\nadaptive_avgpool 6x6"))
        XCTAssertEqual(ad.shape, [1, 256, 6, 6])
        XCTAssertEqual(ad.other, 256 * 13 * 13)
        XCTAssertEqual(Compiled.of("input image 8x5x5\nadaptive_maxpool 1")?.shape, [1, 8, 1, 1])
        let gp = try XCTUnwrap(Compiled.of("input image 8x4x4\nglobalpool"))
        XCTAssertEqual(gp.shape, [1, 8])
        XCTAssertEqual(gp.other, 128)
        XCTAssertEqual(Compiled.of("input image 8x4x4\nglobalpool max keep")?.shape, [1, 8, 1, 1])
        XCTAssertEqual(Compiled.of("input image 3x5x7\nupsample 2")?.shape, [1, 3, 10, 14])
        XCTAssertEqual(Compiled.of("input image 3x5x7\nupsample 3 mode bilinear")?.shape, [1, 3, 15, 21])
        XCTAssertEqual(Compiled.of("input x 3x5\nupsample 3")?.shape, [1, 3, 15])
    }

    func testPatch() throws {
        let p = try XCTUnwrap(Compiled.of("input image 3x224x224\nproj: patch 16 dim 768"))
        XCTAssertEqual(p.shape, [1, 196, 768])
        XCTAssertEqual(p.params, ["proj.weight [768, 3, 16, 16]", "proj.bias [768]"])
        XCTAssertEqual(p.macs, 196 * 768 * 3 * 16 * 16)
        let g = try XCTUnwrap(Compiled.of("input image 3x224x224\nproj: patch 4 dim 96 grid bias off"))
        XCTAssertEqual(g.shape, [1, 56, 56, 96])
        XCTAssertEqual(g.params, ["proj.weight [96, 3, 4, 4]"])
        XCTAssertEqual(g.macs, 56 * 56 * 96 * 3 * 16)
        XCTAssertEqual(Compiled.errors("input image 3x30x30\npatch 16 dim 8").first, "image size 30 is not a multiple of the patch size 16")
        XCTAssertEqual(Compiled.errors("input image 3x32x32\npatch 16").first, "patch needs 'dim N', the embedding width")
    }

    func testNormalization() throws {
        let bn = try XCTUnwrap(Compiled.of("input image 16x8x8\nbn: batchnorm"))
        XCTAssertEqual(bn.shape, [1, 16, 8, 8])
        XCTAssertEqual(bn.params, ["bn.weight [16]", "bn.bias [16]", "bn.running_mean [16] buffer", "bn.running_var [16] buffer",
                                   "bn.num_batches_tracked [] buffer"])
        XCTAssertEqual(bn.count, 32)
        XCTAssertEqual(bn.other, 16 * 64)
        XCTAssertEqual(Compiled.of("input x 16\nbn: norm batch affine off")?.count, 0)
        let ln = try XCTUnwrap(Compiled.of("input x 10x64\nln: layernorm eps 1e-6"))
        XCTAssertEqual(ln.shape, [1, 10, 64])
        XCTAssertEqual(ln.params, ["ln.weight [64]", "ln.bias [64]"])
        XCTAssertEqual(Compiled.of("input x 10x64\nln: layernorm bias off")?.params, ["ln.weight [64]"])
        XCTAssertEqual(Compiled.of("input x 10x64\nln: norm layer affine off")?.params, [])
        XCTAssertEqual(Compiled.of("input x 10x64\nrms: rmsnorm")?.params, ["rms.weight [64]"])
        let gn = try XCTUnwrap(Compiled.of("input image 16x8x8\ngn: groupnorm 4"))
        XCTAssertEqual(gn.params, ["gn.weight [16]", "gn.bias [16]"])
        XCTAssertEqual(gn.shape, [1, 16, 8, 8])
        XCTAssertEqual(Compiled.errors("input image 16x8x8\ngroupnorm 5").first, "groups 5 does not divide the 16 channels")
        XCTAssertEqual(Compiled.errors("input x 10x64\nlayernorm eps 2").first, "'eps' of 'layernorm' must be between 0.0 and 1.0, got 2.0")
    }

    func testActivationsSoftmaxDropout() throws {
        for op in ["relu", "relu6", "gelu", "gelu tanh", "silu", "swish", "sigmoid", "tanh", "hardswish", "identity", "softmax", "softmax dim 1"] {
            let a = try XCTUnwrap(Compiled.of("input x 4x5\n\(op)"), op)
            XCTAssertEqual(a.shape, [1, 4, 5], op)
            XCTAssertEqual(a.params, [], op)
            XCTAssertEqual(a.macs, 0, op)
            XCTAssertEqual(a.other, 20, op)
        }
        let d = try XCTUnwrap(Compiled.of("input x 4x5\ndropout 0.1\ndropout"))
        XCTAssertEqual(d.shape, [1, 4, 5])
        XCTAssertEqual(d.other, 0)
        XCTAssertEqual(Compiled.errors("input x 4x5\ndropout 1").first, "dropout probability 1.0 drops everything")
        XCTAssertEqual(Compiled.errors("input x 4x5\nsoftmax dim 3").first, "dim 3 is out of range for a rank-3 tensor")
        XCTAssertEqual(Compiled.errors("input x 4x5\nsoftmax dim -4").first, "dim -4 is out of range for a rank-3 tensor")
        XCTAssertEqual(Compiled.errors("input ids 4 tokens\nrelu").first, "relu expects floating-point features, but its input holds token ids [1, 4]")
    }
}
