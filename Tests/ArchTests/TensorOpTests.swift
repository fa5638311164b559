import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchIO
@testable import ArchRuntime
@testable import ArchCodegen

/// The tensor ops of the language: arithmetic with labels, numbers and learned tensors; their shape
/// rules, names and counts, and their values in the interpreter on inputs small enough to check by hand.
final class TensorOpTests: XCTestCase {
    func graph(_ src: String, bindings: [String: Int] = ["batch": 1], file: StaticString = #filePath, line: UInt = #line) throws -> Graph {
        let c = Support.compile(src, bindings: bindings)
        XCTAssertTrue(c.succeeded && c.diagnostics.diagnostics.isEmpty, Support.rendered(c), file: file, line: line)
        return try XCTUnwrap(c.graph, file: file, line: line)
    }

    func errors(_ src: String, bindings: [String: Int] = ["batch": 1]) -> [String] {
        Support.compile(src, bindings: bindings).diagnostics.diagnostics.filter { $0.severity == .error }.map(\.message)
    }

    /// Runs a spec (sizes bound from the input's shape) on one input and the given weights.
    func run(_ src: String, _ x: Tensor, weights: [(name: String, tensor: Tensor)] = [],
             file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
        let declared = try XCTUnwrap(Support.compile(src).graph, file: file, line: line)
        let name = declared.inputs[0].name
        let g = try graph(src, bindings: try InputBinding.bindings(for: declared, inputs: [name: x]), file: file, line: line)
        let bound = WeightStore.bind(g, tensors: weights, file: "w.safetensors")
        XCTAssertEqual(bound.errors.map(\.description), [], file: file, line: line)
        return try Interpreter(graph: g, weights: XCTUnwrap(bound.store), threads: 1).run([name: x])
    }

    func tensor(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, floats: values) }
    func iota(_ shape: [Int], from start: Float = 0) -> Tensor {
        tensor(shape, (0..<shape.reduce(1, *)).map { start + Float($0) })
    }

    // MARK: arithmetic

    /// Labels, numbers and learned tensors as operands; rank and size-1 broadcasting as PyTorch's.
    func testArithmeticShapesNamesAndCounts() throws {
        let g = try graph("""
        input x 4x3x3
        pool: globalpool keep
        layer_scale: mul param [4, 1, 1] from x
        ls1: mul param [3] name gamma
        affine: seq { mul param [1, 1, 3] name alpha; add param [3] name beta }
        sub pool
        div 2
        rsub 1
        """)
        XCTAssertEqual(g.params.map { "\($0.name) \($0.shape)" },
                       ["layer_scale [4, 1, 1]", "ls1.gamma [3]", "affine.alpha [1, 1, 3]", "affine.beta [3]"])
        XCTAssertEqual(describe(g.values[g.output!].shape), "[1, 4, 3, 3]")
        XCTAssertEqual(try Summary(g).params, 4 + 3 + 3 + 3)
        XCTAssertEqual(g.nodes.map(\.otherOps), [36, 36, 36, 36, 36, 36, 36, 36])
        // Labelled tensors of other shapes broadcast both ways, as PyTorch's do.
        let b = try graph("""
        input x 4x3
        col: globalpool keep
        row: seq from x { transpose 1 2; globalpool keep; transpose 1 2 }
        flat: flatten from row
        mul row from col
        add flat from col
        """)
        XCTAssertEqual(b.nodes.suffix(3).map { describe(b.values[$0.output].shape) }, ["[1, 3]", "[1, 4, 3]", "[1, 4, 3]"])
    }

    /// Each op on a learned tensor, a number and a labelled tensor, with the values by hand.
    func testArithmeticValues() throws {
        let x = iota([1, 2, 3], from: 1)  // [[1, 2, 3], [4, 5, 6]]
        let y = try run("""
        input x 2x3
        col: mul param [2, 1]
        sub 1
        div param [3] name d
        rsub 10
        branch half { mul 0.5 }
        add half
        sub col
        """, x, weights: [("col", tensor([2, 1], [2, -1])), ("d", tensor([3], [1, 2, 4]))])
        // col = [[2, 4, 6], [-4, -5, -6]]; -1; / [1, 2, 4]; 10 - v; v + v / 2; - col
        func expected(_ v: Float, _ c: Float, _ d: Float) -> Float {
            let r = 10 - (v * c - 1) / d
            return r * 1.5 - v * c
        }
        let want: [Float] = [expected(1, 2, 1), expected(2, 2, 2), expected(3, 2, 4), expected(4, -1, 1), expected(5, -1, 2), expected(6, -1, 4)]
        XCTAssertEqual(y.shape, [1, 2, 3])
        for (a, b) in zip(y.floats, want) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// archc init fills learned operands as 'init' says, or with the op's neutral element.
    func testLearnedOperandInitialisation() throws {
        let g = try graph("""
        input x 4
        a: mul param [4]
        b: add param [4]
        c: mul param [4] init value 1e-6
        d: add param [4] init normal 0.02
        e: div param [4] init uniform 0.5
        """)
        let t = Dictionary(uniqueKeysWithValues: Initializer.tensors(for: g, seed: 1).map { ($0.name, $0.tensor.floats) })
        XCTAssertEqual(t["a"], [1, 1, 1, 1])
        XCTAssertEqual(t["b"], [0, 0, 0, 0])
        XCTAssertEqual(t["c"], [1e-6, 1e-6, 1e-6, 1e-6])
        XCTAssertTrue(t["d"]!.allSatisfy { abs($0) < 0.2 } && Set(t["d"]!).count == 4)
        XCTAssertTrue(t["e"]!.allSatisfy { abs($0) <= 0.5 } && Set(t["e"]!).count == 4)
    }

    // MARK: reductions, slices, views, blocks

    /// sum / mean / max over one or several dimensions, kept as size 1 or removed.
    func testReductions() throws {
        let x = iota([1, 2, 3, 2])  // x[0, c, h, w] = 6c + 2h + w
        XCTAssertEqual(try run("input x 2x3x2\nsum dim 2 3\n", x).floats, [15, 51])
        XCTAssertEqual(try run("input x 2x3x2\nmean dim -1 keep\n", x).shape, [1, 2, 3, 1])
        XCTAssertEqual(try run("input x 2x3x2\nmean dim -1 keep\n", x).floats, [0.5, 2.5, 4.5, 6.5, 8.5, 10.5])
        XCTAssertEqual(try run("input x 2x3x2\nmax dim 1 2\n", x).floats, [10, 11])
        let g = try graph("input x [seq, 8]\nmean dim 1\n", bindings: ["batch": 2, "seq": 5])
        XCTAssertEqual(describe(g.values[g.output!].shape), "[2, 8]")
        XCTAssertEqual(g.nodes[0].otherOps, 80)
        XCTAssertEqual(errors("input x 4x4\nsum\n"), ["'sum' needs 'dim D', the dimensions to reduce"])
        XCTAssertEqual(errors("input x 4x4\nsum dim 0\n"), ["'sum' cannot reduce the batch dimension 0"])
        XCTAssertEqual(errors("input x 4x4\nmax dim 1 -2\n"), ["dimension 1 is reduced twice"])
        XCTAssertEqual(errors("input x 4x4\nmean dim 3\n"), ["dimension 3 is out of range for a rank-3 tensor"])
    }

    /// slice keeps start, start + step, ... before end; index takes one position and drops the
    /// dimension; negative positions count from the end, as in Python.
    func testSliceAndIndex() throws {
        let x = iota([1, 6, 2])  // token t = [2t, 2t + 1]
        XCTAssertEqual(try run("input x 6x2\nslice dim 1 start 1\n", x).floats, Array((2..<12).map(Float.init)))
        XCTAssertEqual(try run("input x 6x2\nslice dim 1 start -5 end -1 step 2\n", x).floats, [2, 3, 6, 7])
        XCTAssertEqual(try run("input x 6x2\nslice dim -1 end 1\n", x).floats, [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(try run("input x 6x2\nindex dim 1 at -1\n", x).floats, [10, 11])
        XCTAssertEqual(try run("input x 6x2\nindex dim 2 at 0\n", x).shape, [1, 6])
        // Symbolic sequences: lengths as expressions, checked once the size is bound.
        let g = try graph("input x [seq, 8]\na: slice dim 1 start 1\nb: slice dim 1 start -4 from x\nc: slice dim 1 end -1 step 2 from x\n",
                          bindings: ["batch": 1])
        XCTAssertEqual(g.nodes.map { describe(g.values[$0.output].shape) }, ["[1, seq-1, 8]", "[1, 4, 8]", "[1, seq/2, 8]"])
        XCTAssertEqual(errors("input x 6x2\nslice dim 1 start 2 end 7\n"), ["slice end 7 is past the end of dimension 1 of size 6"])
        XCTAssertEqual(errors("input x 6x2\nslice dim 1 start 6\n"), ["slice start 6 is outside dimension 1 of size 6"])
        XCTAssertEqual(errors("input x 6x2\nslice dim 1 start 4 end -2\n"), ["slice 4:-2 of dimension 1 (size 6) is empty"])
        XCTAssertEqual(errors("input x 6x2\nindex dim 1 at -7\n"), ["index -7 is outside dimension 1 of size 6"])
        XCTAssertEqual(errors("input x 6x2\nindex at 1\n"), ["'index' needs 'dim D', the dimension to index"])
        XCTAssertEqual(errors("input x 6x2\nslice dim 0 end 1\n"), ["'slice' cannot slice the batch dimension 0"])
        XCTAssertEqual(errors("input x [seq, 2]\nslice dim 1 start 3 end 3\n"), ["slice 3:3 of dimension 1 (size seq) is empty"])
    }

    /// view writes the whole shape, batch included: a dimension folds into the batch and back.
    func testViewFoldsIntoTheBatch() throws {
        let h = try graph("input x [seq, 16]\nview [batch * seq, 1, 4, 4]\nconv 3 2 pad 1\nview [batch, seq, -1]\n", bindings: ["batch": 2, "seq": 3])
        XCTAssertEqual(h.nodes.map { describe(h.values[$0.output].shape) }, ["[6, 1, 4, 4]", "[6, 2, 4, 4]", "[2, 3, 32]"])
        let symbolic = try graph("input x [seq, 16]\nview [batch * seq, 16]\n", bindings: [:])
        XCTAssertEqual(describe(symbolic.values[symbolic.output!].shape), "[batch*seq, 16]")
        XCTAssertEqual(try run("input x 2x3\nview [batch * 3, 2]\nindex dim 1 at 1\n", iota([1, 2, 3])).floats, [1, 3, 5])
        XCTAssertEqual(errors("input x 4x4\nview [batch, 3, 4]\n"), ["a view as [1, 3, 4] has 12 elements, but the input [1, 4, 4] has 16"])
        XCTAssertEqual(errors("input x 4x4\nview [batch, -1, -1]\n"), ["a view may leave only one size as -1"])
        XCTAssertEqual(errors("input x 4x4\nview [batch, 0, 16]\n"), ["a view's sizes must be positive or -1, got 0"])
    }

    /// unfold cuts blocks of an image into columns as nn.Unfold; fold adds them back as nn.Fold
    /// (each pixel counted once per block that covers it).
    func testUnfoldAndFold() throws {
        let x = iota([1, 1, 3, 3])
        let cols = try run("input x 1x3x3\nunfold 2\n", x)
        XCTAssertEqual(cols.shape, [1, 4, 4])
        XCTAssertEqual(cols.floats, [0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8])
        let padded = try run("input x 1x3x3\nunfold 3 stride 2 pad 1\n", x)
        XCTAssertEqual(padded.shape, [1, 9, 4])
        XCTAssertEqual(Array(padded.floats.prefix(4)), [0, 0, 0, 4])
        XCTAssertEqual(try run("input x 1x3x3\nunfold 2\nfold 3x3 2\n", x).floats, [0, 2, 2, 6, 16, 10, 6, 14, 8])
        XCTAssertEqual(errors("input x 8x5\nfold 3x3 2\n"), ["fold into 3x3 takes 4 blocks of 2x2, but the input has 5"])
        XCTAssertEqual(errors("input x 6x4\nfold 3x3 2\n"), ["fold's columns have 6 rows, not a multiple of the kernel's 4 positions"])
        XCTAssertEqual(errors("input x 8\nunfold 2\n"), ["unfold expects an image [batch, channels, height, width], but its input has shape [1, 8]"])
    }

    /// layernorm and rmsnorm over another dimension than the last: LayerNorm2d over the channels.
    func testNormOverChannels() throws {
        let g = try graph("input x 4x2x2\nln: layernorm dim 1 eps 1e-6\nrms: rmsnorm dim 2\n")
        XCTAssertEqual(g.params.map { "\($0.name) \($0.shape)" }, ["ln.weight [4]", "ln.bias [4]", "rms.weight [2]"])
        let x = tensor([1, 2, 1, 2], [1, 3, 3, 1])  // pixel 0 has channels (1, 3), pixel 1 (3, 1)
        let y = try run("input x 2x1x2\nln: layernorm dim 1 affine off\n", x)
        let v: Float = 1 / (1 + 1e-5).squareRoot()
        XCTAssertEqual(y.floats.count, 4)
        for (a, b) in zip(y.floats, [-v, v, v, -v]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(errors("input x 4x2x2\nlayernorm dim 0\n"), ["'layernorm' cannot normalise over the batch dimension 0"])
    }

    /// Emitted PyTorch reads the operands as the interpreter does.
    func testArithmeticEmitsPyTorch() throws {
        let py = try TorchEmitter.emit(graph("input x 4\nbranch h { mul 0.5 }\nls: mul param [4]\nrsub 1\nsub h\naffine: seq { add param [4] name beta }\n"))
        for line in ["x1 = x * 0.5", "h = x * self.ls", "h = 1 - h", "h = h - x1", "h = h + self.affine.beta", "return h",
                     "self.ls = nn.Parameter(torch.ones(4))", "self.affine.beta = nn.Parameter(torch.zeros(4))"] {
            XCTAssertTrue(py.contains(line), "\(line)\n\(py)")
        }
    }
}
