import Foundation
import XCTest
@testable import ArchDriver

/// `archc graph` on the command line: files, standard output, formats, depths, errors.
extension GraphTests {
    func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-graph-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testWritesTheFileInTheFormatAsked() throws {
        let dir = try temporaryFolder()
        let spec = Support.specs.appendingPathComponent("resnet18.arch").path
        let r = Support.run("graph", spec, "-o", dir + "/net.svg", "--depth", "1")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "wrote \(dir)/net.svg: svg, 12 nodes, 11 edges (depth 1)\n")
        let svg = try String(contentsOfFile: dir + "/net.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("<title>resnet18</title>"))
        XCTAssertTrue(svg.contains("Total params: 11,689,512"))
        // The format follows the extension unless given.
        XCTAssertEqual(Support.run("graph", spec, "-o", dir + "/net.dot").status, 0)
        XCTAssertTrue(try String(contentsOfFile: dir + "/net.dot", encoding: .utf8).hasPrefix("digraph \"resnet18\" {"))
        XCTAssertEqual(Support.run("graph", spec, "-o", dir + "/net.mmd").status, 0)
        XCTAssertTrue(try String(contentsOfFile: dir + "/net.mmd", encoding: .utf8).contains("flowchart TB"))
        XCTAssertEqual(Support.run("graph", spec, "-o", dir + "/net.txt", "--format", "dot").status, 0)
        XCTAssertTrue(try String(contentsOfFile: dir + "/net.txt", encoding: .utf8).hasPrefix("digraph"))
    }

    func testStandardOutputAndBindings() {
        let spec = Support.specs.appendingPathComponent("gpt2.arch").path
        let r = Support.run("graph", spec, "-o", "-", "--format", "mermaid", "--depth", "1")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("<b>wte</b> embed<br/>B×seq×768<br/>38,597,376 params"), r.stdout)
        let bound = Support.run("graph", spec, "-o", "-", "--format", "mermaid", "--depth", "1", "--set", "seq=128", "--set", "batch=1")
        XCTAssertTrue(bound.stdout.contains("<b>wte</b> embed<br/>1×128×768<br/>38,597,376 params"), bound.stdout)
        let unknown = Support.run("graph", spec, "-o", "-", "--set", "sq=128")
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("1 error generated."), unknown.stderr)
    }

    func testUsageErrors() {
        let spec = Support.specs.appendingPathComponent("mlp.arch").path
        let format = Support.run("graph", spec, "-o", "-", "--format", "png")
        XCTAssertEqual(format.status, 2)
        XCTAssertTrue(format.stderr.hasPrefix("error: unknown format 'png'; the formats are svg, dot, mermaid\n\nUSAGE: archc graph"), format.stderr)
        let near = Support.run("graph", spec, "-o", "-", "--format", "mermiad")
        XCTAssertTrue(near.stderr.hasPrefix("error: unknown format 'mermiad'; did you mean 'mermaid'?; the formats are"), near.stderr)
        XCTAssertEqual(Support.run("graph", spec).stderr.components(separatedBy: "\n")[0], "error: graph needs one FILE and -o OUT (- for standard output)")
        XCTAssertEqual(Support.run("graph", spec, spec, "-o", "-").stderr.components(separatedBy: "\n")[0], "error: graph takes one FILE")
        XCTAssertEqual(Support.run("graph", spec, "-o", "-", "--depth", "0").stderr.components(separatedBy: "\n")[0],
                       "error: --depth needs a whole number from 1 (top-level blocks only), got '0'")
        XCTAssertEqual(Support.run("graph", spec, "-o", "-", "--depth", "x").status, 2)
        XCTAssertTrue(Support.run("graph", "--help").stdout.hasPrefix("USAGE: archc graph FILE -o OUT"))
        XCTAssertTrue(Support.run("--help").stdout.contains("graph FILE -o net.svg"))
    }

    func testBadFilesAreErrorsAndLeaveNothing() throws {
        let dir = try temporaryFolder()
        let spec = Support.specs.appendingPathComponent("mlp.arch").path
        let missingFolder = Support.run("graph", spec, "-o", dir + "/missing/net.svg")
        XCTAssertEqual(missingFolder.status, 1)
        XCTAssertTrue(missingFolder.stderr.hasPrefix("\(dir)/missing/net.svg: error: "), missingFolder.stderr)
        XCTAssertTrue(missingFolder.stderr.hasSuffix("1 error generated.\n"))
        let folder = Support.run("graph", spec, "-o", dir)
        XCTAssertEqual(folder.status, 1)
        XCTAssertTrue(folder.stderr.contains("is a directory"), folder.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no file or temporary file is left")
        let badSpec = dir + "/bad.arch"
        try "input x 4\nlinear 0\n".write(toFile: badSpec, atomically: true, encoding: .utf8)
        let bad = Support.run("graph", badSpec, "-o", dir + "/bad.svg")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("error:") && bad.stderr.hasSuffix("1 error generated.\n"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.svg"))
        XCTAssertEqual(Support.run("graph", dir + "/none.arch", "-o", "-").status, 1)
    }
}
