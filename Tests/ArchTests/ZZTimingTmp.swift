import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver

final class ZZTimingTmp: XCTestCase {
    func testTiming() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        for f in files {
            let bytes = [UInt8](try Data(contentsOf: Support.specs.appendingPathComponent(f)))
            let t0 = Date()
            var ok = false
            for _ in 0..<5 {
                let c = Pipeline.compile(SourceFile(path: f, bytes: bytes), bindings: ["batch": 1, "seq": 16])
                ok = c.succeeded
                if let g = c.graph, ok { let s = try Summary(g); _ = ParamsReport.table(s, depth: 3); _ = ParamsReport.json(s, depth: 3); _ = ParamsReport.names(g) }
            }
            let t1 = Date()
            for _ in 0..<5 { let d = DiagnosticEngine(); _ = Parser.parse(SourceFile(path: f, bytes: bytes), diags: d) }
            let t2 = Date()
            print(String(format: "%-24@ full %.2f ms  parse %.3f ms ok=%d", f as NSString, t1.timeIntervalSince(t0) * 200, t2.timeIntervalSince(t1) * 200, ok ? 1 : 0))
        }
    }
}
