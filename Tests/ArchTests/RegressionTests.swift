import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver

/// Inputs that once crashed, hung or gave PyTorch-incompatible answers; each now has a fixed outcome.
final class RegressionTests: XCTestCase {
    func errors(_ src: String, bindings: [String: Int] = ["batch": 1]) -> [String] {
        Support.compile(src, bindings: bindings).diagnostics.diagnostics.filter { $0.severity == .error }.map(\.message)
    }

    func shape(_ src: String) -> String? {
        let c = Support.compile(src, bindings: ["batch": 1])
        guard c.succeeded, let g = c.graph, let o = g.output else { return nil }
        return describe(g.values[o].shape)
    }

    func testOverflowingWidthsAreErrors() {
        // The inputs fit in 64 bits; the weights the layers derive from them do not.
        for src in ["input x 2x2x2147483647\npatchmerge",
                    "input x 1x2147483647\nattention heads 1 qkv fused",
                    "input x 1x2147483647\nswiglu 2147483647"] {
            let e = errors(src)
            XCTAssertEqual(e.count, 1, src)
            XCTAssertTrue(e.first?.hasSuffix("overflows a 64-bit integer") == true, "\(src): \(e)")
        }
        // A width above 2^31 - 1 is refused where it appears (flatten), not passed on until a later count overflows.
        XCTAssertEqual(errors("input x 1x1073741823x2147483647\nflatten start 2\nswiglu 8"),
                       ["the output of 'flatten' has shape [1, 1, 2305843005992468481]: the size 2305843005992468481 is above the limit of 2147483647"])
        XCTAssertEqual(errors("input x 2x2147483647\nmoe 2", bindings: [:]), ["moe needs 'hidden N', the width of each expert"])
        XCTAssertEqual(errors("input x 2x2x2147483647x2147483647"), ["input 'x' has more elements than a 64-bit integer counts"])
    }

    func testDeepStructuresAreBounded() {
        let chain = "input x 8\nif off { relu }" + String(repeating: " else if off { relu }", count: 3000)
        XCTAssertFalse(errors(chain).isEmpty)
        var blocks = "input x 8\n"
        for i in 0..<63 {
            blocks += "block b\(i) {\n" + String(repeating: "seq {", count: 60) + (i < 62 ? "b\(i + 1)" : "relu") + String(repeating: "}", count: 60) + "\n}\n"
        }
        XCTAssertEqual(errors(blocks + "b0\n"), ["layers nested more than 200 deep (groups and blocks inside each other)"])
    }

    func testBudgets() {
        XCTAssertEqual(errors("input x 8\nmoe 2147483647 hidden 1"), ["2147483647 experts would declare more than 1000000 parameter tensors"])
        XCTAssertEqual(errors("input x 4x8\nrnn 1 layers 2147483647"), ["2147483647 layers would declare more than 1000000 parameter tensors"])
        var small = Limits()
        small.steps = 1000
        small.nodes = 500
        let steps = Pipeline.compile(SourceFile(path: "t", text: "input x 8\nseq x400 {\nseq x400 { }\n}"), bindings: [:], limits: small)
        XCTAssertEqual(steps.diagnostics.diagnostics.map(\.message), ["the network takes more than 1000 expansion steps"])
        let nodes = Pipeline.compile(SourceFile(path: "t", text: "input x 8\nblock b {\n  relu x100\n}\nb x100\n"), bindings: [:], limits: small)
        XCTAssertEqual(nodes.diagnostics.diagnostics.map(\.message), ["the network expands to more than 500 layers"])
        let unused = "input x 8\n" + (0..<1000).map { "block u\($0) { relu }" }.joined(separator: "\n") + "\nrelu\n"
        let c = Support.compile(unused)
        XCTAssertEqual(c.diagnostics.diagnostics.count, 200, "warnings are capped like errors")
        XCTAssertEqual(c.diagnostics.droppedWarnings, 800)
    }

    func testPoolingMatchesPyTorchCeilMode() {
        // torch.nn.MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5x5 gives 3x3; MaxPool1d(1, 3, ceil_mode=True) on 6 gives 2.
        XCTAssertEqual(shape("input x 1x5x5\nmaxpool 2 stride 2 pad 1 ceil"), "[1, 1, 3, 3]")
        XCTAssertEqual(shape("input x 1x6\nmaxpool 1 stride 3 ceil"), "[1, 1, 2]")
        XCTAssertEqual(shape("input x 1x7x7\navgpool 2 ceil"), "[1, 1, 4, 4]")
        XCTAssertEqual(shape("input x 1x6x6\nmaxpool 3 pad 0\nconvt 2 3 pad 0 outpad 0"), "[1, 3, 3, 3]")
        XCTAssertEqual(errors("input x 2x8\nupsample 2 mode bilinear"),
                       ["bilinear upsampling needs an image [batch, channels, height, width], but the input has shape [1, 2, 8]"])
    }

    func testSyntaxThatWasSilentlyMisread() {
        XCTAssertEqual(errors("input x 3xmax_len\nrelu"), ["size '3xmax_len' is ambiguous: names inside NxM sizes are single letters"])
        XCTAssertEqual(errors("input x 8\nblock b(n) { relu }\nb 4 { linear 3 }"), ["block 'b' takes no '{ }' body"])
        XCTAssertEqual(errors("input x 8\nif on { relu }\nelse { gelu }"), ["'else' must follow the '}' of an 'if' on the same line"])
        XCTAssertEqual(errors("input x 8\nlinear 4 ) {\nrelu\n}\nrelu"), ["expected a value, found ')'"], "the body of a broken line is skipped with it")
        XCTAssertEqual(shape("input x [seq + 1, 8]\nlinear 4"), "[1, seq+1, 4]")
    }

    /// A size that is a product of symbols is reached by binding the symbols one by one, as the
    /// hints say (they said `--set a*b=N`, which --set refuses, and binding a and b did not help).
    func testProductsOfSymbolsAreBoundByTheirNames() {
        XCTAssertEqual(Support.compile("input x [a*b]\nlinear 4", bindings: ["batch": 1, "a": 2, "b": 3]).graph.flatMap { g in g.output.map { describe(g.values[$0].shape) } }, "[1, 4]")
        XCTAssertEqual(errors("input x [2*a*b + 1]\nrelu", bindings: ["batch": 1, "a": 65536, "b": 16384]),
                       ["--set gives (2*a)*b+1 the size 2147483649, above the limit of 2147483647"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-sym-\(getpid()).arch")
        try? "input x [a*b, 8]\nlinear 4\n".write(to: dir, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertTrue(Support.run("params", dir.path).stdout.contains("MACs: depend on a, b; pass --set a=N --set b=N\n"))
        XCTAssertTrue(Support.run("params", dir.path, "--set", "a=2", "--set", "b=2").stdout.contains("MACs: 128 "))
    }

    func testHugeButValidTensorsStillSummarise() throws {
        let c = Support.compile("input x 2147483647x2147483647\ngelu", bindings: ["batch": 1])
        XCTAssertTrue(c.succeeded)
        let s = try Summary(XCTUnwrap(c.graph))
        XCTAssertNil(s.activationBytes, "more bytes than 64 bits count: no figure rather than a failure")
    }

    func testCeilingDivision() throws {
        XCTAssertEqual(try Dim(-7).dividedCeil(by: 2), Dim(-3))
        XCTAssertEqual(try Dim(7).dividedCeil(by: 2), Dim(4))
        XCTAssertEqual(try Dim(symbol: "seq").times(2).dividedCeil(by: 2), Dim(symbol: "seq"))
    }

    func testMessagesThatWereMisleading() {
        XCTAssertEqual(errors("input x [4, 8]\nattention heads 2 causal maybe"),
                       ["'causal' is a flag: write 'causal', 'causal on' or 'causal off', not 'causal maybe'"])
        XCTAssertEqual(errors("input x 8\nlinear 99999999999999999999"), ["integer 99999999999999999999 is too large"])
        XCTAssertEqual(errors("input x 8\nblock b(n = m, m = 2) { linear n }\nb"), ["the default of 'n' uses 'm', a parameter declared after it"])
        XCTAssertEqual(errors("input x 8\nl: linear 8\nlinear 8 tied l2"), ["no earlier layer or input is labelled 'l2'; did you mean 'l'?"])
        XCTAssertEqual(errors("input x 8\nlinear 8 tied q"), ["no earlier layer or input is labelled 'q'"], "no suggestion of an unrelated one-letter name")
        // The repetition index reaches into the block used by the repeated line.
        XCTAssertEqual(shape("input x [4, 8]\nblock b { linear 8 + index }\nb x3"), "[1, 4, 10]")
        // A long chain of else-if branches is fine; only a runaway one is refused.
        let chain = "input x 8\nif off { relu }" + String(repeating: " else if off { relu }", count: 100) + " else { gelu }"
        XCTAssertEqual(shape(chain), "[1, 8]")
    }

    func testCaretPlacement() {
        // At the end of a line the caret sits after the last token, not after a trailing comment.
        let c = Support.compile("input  # a comment\nlinear 4\n")
        XCTAssertEqual(c.diagnostics.diagnostics.first.map { $0.loc!.file.lineAndColumn(of: $0.loc!.start).column }, 6)
        // On a very long line the snippet is a window that still contains the caret.
        let long = "input x 8\nlinear 4 " + String(repeating: " ", count: 400) + "strde 2 " + String(repeating: " ", count: 400) + "\n"
        let text = Support.rendered(Support.compile(long))
        let lines = text.split(separator: "\n").map(String.init)
        let source = lines[1], caret = lines[2]
        XCTAssertLessThan(source.count, 260)
        let at = caret.firstIndex(of: "^")!
        XCTAssertEqual(String(source[at...].prefix(5)), "strde")
        XCTAssertEqual(Support.run("check", "/nonexistent.arch").stderr.hasSuffix("1 error generated.\n"), true)
    }
}
