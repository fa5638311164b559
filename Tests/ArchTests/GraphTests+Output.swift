import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchGraph

/// The three formats: snapshots of a small spec, well-formed XML for every spec, hostile names.
extension GraphTests {
    static let small = Support.fixtures.appendingPathComponent("graph/small.arch").path

    /// `archc graph` of Fixtures/graph/small.arch in each format, against small.svg, small.dot and
    /// small.mmd beside it (`ARCHC_RECORD=1` re-records them; review the diff, and look at the SVG).
    func testSnapshotsInEveryFormat() throws {
        let record = ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1"
        for (format, ext) in [("svg", "svg"), ("dot", "dot"), ("mermaid", "mmd")] {
            let r = Support.run("graph", Self.small, "-o", "-", "--format", format, "--depth", "4")
            XCTAssertEqual(r.status, 0, r.stderr)
            let url = Support.fixtures.appendingPathComponent("graph/small.\(ext)")
            if record { try r.stdout.write(to: url, atomically: true, encoding: .utf8); continue }
            let expected = try String(contentsOf: url, encoding: .utf8)
            XCTAssertEqual(r.stdout, expected, "archc graph --format \(format) changed: \(DiagnosticSnapshotTests.firstDifference(r.stdout, expected))")
        }
        XCTAssertFalse(record, "snapshots recorded; review the diff and run again without ARCHC_RECORD")
    }

    /// XML's own parser reads the SVG of every spec without an error.
    func testEverySVGIsWellFormedXML() throws {
        for name in Self.specNames {
            let d = try Self.diagram(try Self.graph(name), depth: 3)
            let svg = SVGWriter.write(d, depth: 3)
            XCTAssertNil(Self.xmlError(svg), "\(name): \(Self.xmlError(svg) ?? "")")
            XCTAssertTrue(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\""), name)
            XCTAssertTrue(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""), name)
            XCTAssertTrue(svg.contains("Total params: \(ShapeText.grouped(d.totalParams))"), name)
        }
        XCTAssertNotNil(Self.xmlError("<svg><text>a < b</text></svg>"), "the check itself must catch bad XML")
    }

    static func xmlError(_ text: String) -> String? {
        let parser = XMLParser(data: Data(text.utf8))
        return parser.parse() ? nil : "\(parser.parserError.map { "\($0)" } ?? "parse error") at line \(parser.lineNumber)"
    }

    /// A graph whose model, input and layer names hold markup, quotes, backslashes, control
    /// characters and newlines (names the parser never makes, set on a checked graph): every format
    /// escapes them, and the SVG stays well-formed.
    func testHostileNamesAreEscaped() throws {
        let c = Support.compile(try String(contentsOfFile: Self.small, encoding: .utf8))
        let g = try XCTUnwrap(c.graph)
        let hostile = "<i>\"&'\\n\u{1}\n#`]"
        func rename(_ path: [String]) -> [String] { path.map { hostile + $0 } }
        g.modelName = hostile
        g.inputs[0].name = hostile
        for i in g.modules.indices { g.modules[i].path = rename(g.modules[i].path) }
        for i in g.nodes.indices { g.nodes[i].path = rename(g.nodes[i].path) }
        let d = try Self.diagram(g, depth: 4)
        XCTAssertEqual(d.clusters.count, 2, "renamed consistently, the blocks are still there")

        let svg = SVGWriter.write(d, depth: 4)
        XCTAssertNil(Self.xmlError(svg), Self.xmlError(svg) ?? "")
        XCTAssertFalse(svg.contains("<i>"))
        XCTAssertTrue(svg.contains("<title>&lt;i&gt;&quot;&amp;&apos;\\n\u{FFFD}\n#`]</title>"))
        XCTAssertTrue(svg.contains(">&lt;i&gt;&quot;&amp;&apos;\\n\u{FFFD}\n#`]proj</tspan>"))
        XCTAssertFalse(svg.contains("\u{1}"))

        let dot = DOTWriter.write(d)
        XCTAssertTrue(dot.hasPrefix("digraph \"<i>\\\"&'\\\\n\u{FFFD}\\n#`]\" {"), dot)
        XCTAssertTrue(dot.contains("\"input <i>\\\"&'\\\\n\u{FFFD}\\n#`]\" -> \"<i>\\\"&'\\\\n\u{FFFD}\\n#`]proj\";"), dot)
        for line in dot.split(separator: "\n") {
            // Outside escapes, quotes pair up on every line: no string ends early.
            let unescaped = line.replacingOccurrences(of: "\\\\", with: "").replacingOccurrences(of: "\\\"", with: "")
            XCTAssertEqual(unescaped.filter { $0 == "\"" }.count % 2, 0, "an unbalanced quote in: \(line)")
        }
        XCTAssertFalse(dot.contains("\u{1}"))

        let mermaid = MermaidWriter.write(d)
        // The title is a YAML string (Mermaid sets it as text); the labels are Mermaid's markup.
        XCTAssertFalse(mermaid.split(separator: "\n").dropFirst(3).contains { $0.contains("<i>") })
        XCTAssertTrue(mermaid.contains("n1[\"<b>#lt;i#gt;#quot;#amp;'\\n\u{FFFD}\u{FFFD}#35;#96;]proj</b> linear<br/>"), mermaid)
        for line in mermaid.split(separator: "\n").dropFirst(3) where line.contains("[\"") {
            XCTAssertEqual(line.filter { $0 == "\"" }.count, 2, "a quote inside a label: \(line)")
        }
        XCTAssertTrue(mermaid.hasPrefix("---\ntitle: \"<i>\\\"&'\\\\n\u{FFFD}\u{FFFD}#`] (total params: 9,652)\"\n---\n"), mermaid)
    }

    func testEscapingRules() {
        XCTAssertEqual(Escape.xml("a<b>&\"c'\u{0}\u{FFFE}\t"), "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}\u{FFFD}\t")
        XCTAssertEqual(Escape.dot("a\"b\\c\nd\u{7}"), "a\\\"b\\\\c\\nd\u{FFFD}")
        XCTAssertEqual(Escape.mermaid("a\"b#c&<d>`"), "a#quot;b#35;c#amp;#lt;d#gt;#96;")
    }
}
