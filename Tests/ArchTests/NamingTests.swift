import XCTest
@testable import ArchSemantics
@testable import ArchDriver

/// Names that used to be misread: a label like a repetition count, a block named like an op, a
/// variable named like a block parameter. Each now means what it says.
final class NamingTests: XCTestCase {
    func names(_ src: String, bindings: [String: Int] = ["batch": 1]) throws -> [String] {
        let c = Support.compile(src, bindings: bindings)
        XCTAssertTrue(c.succeeded, Support.rendered(c))
        return try XCTUnwrap(c.graph).params.map { "\($0.name) \($0.shape)" }
    }

    /// `x0:` labels a layer (it was read as a repetition count), and `x0` then refers to it.
    func testLabelWrittenLikeARepetition() throws {
        XCTAssertEqual(try names("input x 16\nx0: linear 16\nrelu\nadd x0\nx1: linear 4 x2\n"),
                       ["x0.weight [16, 16]", "x0.bias [16]", "x1.0.weight [4, 16]", "x1.0.bias [4]", "x1.1.weight [4, 4]", "x1.1.bias [4]"])
        let tied = Support.compile("input ids 8 tokens\nx0: embed 10 4\nlinear 10 bias off tied x0\n", bindings: ["batch": 1])
        XCTAssertTrue(tied.succeeded, Support.rendered(tied))
    }

    /// A block may have an op's name: it replaces the op in the spec; inside itself the name is the
    /// op it wraps; the prelude's lines keep meaning the built-in ops.
    func testBlockNamedLikeAnOp() throws {
        let wrapper = "input ids [seq] tokens\nblock embed(vocab, width) {\n  tok: embed vocab width\n  drop: dropout 0.1\n}\ne: embed 100 8\n"
        XCTAssertEqual(try names(wrapper, bindings: ["batch": 1, "seq": 4]), ["e.tok.weight [100, 8]"])
        let mlp = "input x [seq, 8]\nblock mlp(n) {\n  linear n\n}\nenc: encoder 2\nmlp 3\n"
        let got = try names(mlp, bindings: ["batch": 1, "seq": 4])
        XCTAssertTrue(got.contains("enc.mlp.fc1.weight [32, 8]"), "the prelude's encoder uses the mlp op: \(got)")
        XCTAssertEqual(got.suffix(2), ["1.0.weight [3, 8]", "1.0.bias [3]"])
        XCTAssertEqual(try names("input x 8\nblock norm(k) {\n  norm layer\n  linear k\n}\nnorm 4\n"),
                       ["0.0.weight [8]", "0.0.bias [8]", "0.1.weight [4, 8]", "0.1.bias [4]"])
    }

    /// `inner heads mlp` inside a block whose variables are heads and mlp passes both in order; it
    /// read `heads` as the keyword with mlp's value (and needed '(heads)').
    func testVariablesNamedLikeBlockParameters() throws {
        let src = """
        input x [seq, 64]
        block inner(heads, mlp = 128) {
          attention heads heads
          linear mlp
        }
        block outer(heads, mlp) {
          inner heads mlp
          inner heads heads mlp mlp
          inner (heads) (mlp)
        }
        outer 4 64
        """
        let got = try names(src, bindings: ["batch": 1, "seq": 2])
        XCTAssertEqual(got.filter { $0.contains(".1.weight ") }, ["0.0.1.weight [64, 64]", "0.1.1.weight [64, 64]", "0.2.1.weight [64, 64]"])
    }
}
