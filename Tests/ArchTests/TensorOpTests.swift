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

    /// Emitted PyTorch reads the operands as the interpreter does.
    func testArithmeticEmitsPyTorch() throws {
        let py = try TorchEmitter.emit(graph("input x 4\nbranch h { mul 0.5 }\nls: mul param [4]\nrsub 1\nsub h\naffine: seq { add param [4] name beta }\n"))
        for line in ["v1 = v0 * 0.5", #"v2 = v0 * self.get_parameter("ls")"#, "v3 = 1 - v2", "v4 = v3 - v1",
                     #"v5 = v4 + self.get_parameter("affine.beta")"#, #"self._param("ls", (4,))"#, #"self._param("affine.beta", (4,))"#] {
            XCTAssertTrue(py.contains(line), "\(line)\n\(py)")
        }
    }
}
