import XCTest
@testable import ArchSemantics

/// Symbolic dimension arithmetic: affine in the symbols, exact or opaque division, overflow as an error.
final class DimArithmeticTests: XCTestCase {
    let seq = Dim(symbol: "seq")
    let batch = Dim(symbol: "batch")

    func testAffineArithmetic() throws {
        XCTAssertEqual(Dim(5).value, 5)
        XCTAssertNil(seq.value)
        XCTAssertEqual(try seq.plus(1).description, "seq+1")
        XCTAssertEqual(try (seq + seq.plus(1)).description, "2*seq+1")
        XCTAssertEqual(try seq.plus(-3).description, "seq-3")
        XCTAssertEqual(try seq.times(-1).description, "-seq")
        XCTAssertEqual(try seq.plus(1).times(3).description, "3*seq+3")
        XCTAssertEqual(try (batch + seq.times(2)).description, "batch+2*seq")
        // Terms that cancel disappear, leaving a known size.
        let back = try seq.plus(1) + seq.times(-1)
        XCTAssertEqual(back, Dim(1))
        XCTAssertTrue(back.isKnown)
        XCTAssertEqual(try seq.times(0), Dim(0))
        // A product of two symbols is an opaque symbol; by a constant it stays affine.
        XCTAssertEqual(try (seq * batch).atoms, ["seq*batch"])
        XCTAssertEqual(try (seq * batch).symbols, ["batch", "seq"], "the names --set binds")
        XCTAssertEqual(try (seq * batch).setHint, "--set batch=VALUE --set seq=VALUE")
        XCTAssertEqual(try (seq * Dim(4)).description, "4*seq")
        XCTAssertEqual(try (Dim(4) * seq.plus(1)).description, "4*seq+4")
        XCTAssertEqual(try (seq.plus(1) * batch).atoms, ["(seq+1)*batch"])
        XCTAssertEqual(try (seq.plus(1) * batch).symbols, ["batch", "seq"])
        XCTAssertTrue(try seq.times(4).plus(8).isMultiple(of: 4))
        XCTAssertFalse(try seq.times(4).plus(8).isMultiple(of: 8))
        XCTAssertEqual(try seq.times(2).plus(1).bound(["seq": 5]), Dim(11))
        XCTAssertEqual(try (seq + batch).bound(["seq": 5]).description, "batch+5")
    }

    func testDivision() throws {
        XCTAssertEqual(Dim(7).dividedFloor(by: 2), Dim(3))
        XCTAssertEqual(Dim(8).dividedFloor(by: 2), Dim(4))
        XCTAssertEqual(Dim(-7).dividedFloor(by: 2), Dim(-4))
        XCTAssertEqual(Dim(0).dividedFloor(by: 3), Dim(0))
        XCTAssertEqual(try Dim(7).dividedCeil(by: 2), Dim(4))
        XCTAssertEqual(try Dim(8).dividedCeil(by: 2), Dim(4))
        XCTAssertEqual(try Dim(1).dividedCeil(by: 7), Dim(1))
        // Exact when every coefficient divides; otherwise an opaque symbol naming the quotient.
        XCTAssertEqual(try seq.times(4).plus(2).dividedFloor(by: 2).description, "2*seq+1")
        let opaque = try seq.plus(1).dividedFloor(by: 2)
        XCTAssertFalse(opaque.isKnown)
        XCTAssertEqual(opaque.atoms, ["(seq+1)/2"])
        XCTAssertEqual(try seq.dividedCeil(by: 2).atoms, ["(seq+1)/2"])
        XCTAssertEqual(opaque.symbols, ["seq"])
        XCTAssertEqual(try (Dim(symbol: "max_len.2") * seq).symbols, ["max_len.2", "seq"])
        XCTAssertEqual(try seq.times(2).plus(1).dividedCeil(by: 2).description, "seq+1")
        // (Not asserted: ceil(2 seq / 2) comes out opaque, "(2*seq+1)/2", not seq; reported.)
    }

    func testOverflowThrows() throws {
        XCTAssertThrowsError(try Dim(Int.max).plus(1)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try Dim(Int.min).plus(-1)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try Dim(Int.max / 2 + 1).times(2)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try Dim(Int.min).times(-1)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try seq.times(Int.max).times(2)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try seq.times(Int.max) + seq) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try Dim(Int.max) * Dim(2)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try seq.times(2).bound(["seq": Int.max])) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try Dim(Int.max).dividedCeil(by: 1).plus(1)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try seq.plus(Int.max).dividedCeil(by: 2)) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try TensorType([Dim(1 << 40), Dim(1 << 40)]).elementCount()) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertEqual(try TensorType([Dim(3), Dim(1 << 20)]).elementCount(), 3 << 20)
        XCTAssertNil(try TensorType([seq, Dim(4)]).elementCount())
        XCTAssertThrowsError(try checkedProduct([1 << 32, 1 << 32])) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try checkedSum([Int.max, 1])) { XCTAssertTrue($0 is ArithmeticOverflow) }
        XCTAssertThrowsError(try checkedSub(Int.min, 1)) { XCTAssertTrue($0 is ArithmeticOverflow) }
    }

    /// Sizes too large for 64 bits end in an error diagnostic, not a trap.
    func testOverflowInASpecIsAnError() {
        // The input itself has 2^93 elements: refused where it is declared.
        XCTAssertEqual(Compiled.errors("input x 2147483647x2147483647x2147483647\nflatten").first,
                       "input 'x' has more elements than a 64-bit integer counts")
        // Each input dimension fits, but a product computed by a layer does not: refused where it is made.
        XCTAssertEqual(Compiled.errors("input x 2147483647x2147483647\nflatten\nlinear 4").first,
                       "the output of 'flatten' has shape [1, 4611686014132420609]: the size 4611686014132420609 is above the limit of 2147483647")
        XCTAssertEqual(Compiled.errors("input x 1x2147483647\nattention heads 1 qkv fused").first,
                       "parameter count of 'attention' overflows a 64-bit integer")
        XCTAssertFalse(Compiled.errors("input x 2147483647x2147483647\nlinear 2147483647").isEmpty)
    }
}
