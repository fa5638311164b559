import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchExport

/// Mutated specs through the ONNX export: every mutant that checks (with its sizes symbolic, or bound)
/// exports to a well-formed graph or to an error that says why, never a trap. Well-formed: each node
/// reads only graph inputs, initializers and outputs of earlier nodes, every tensor is made once, the
/// graph's output is made, and the model encodes to as many bytes as it counts.
extension FuzzTests {
    func testMutatedSpecsExportToWellFormedONNXOrSayWhy() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        let library = try files.map { [UInt8](try Data(contentsOf: Support.specs.appendingPathComponent($0))) }
        let cores = library.map(Self.core), slices = cores.flatMap(Self.slices)
        var exported = 0, refused = 0, failures: [String] = []
        for n in 0..<(Self.mutantCount / 5) {
            var rng = Random(state: Self.seed &+ 0x0_77A5 &+ UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
            var bytes = rng.chance(10) ? rng.pick(cores) : rng.pick(slices)
            for _ in 0..<rng.pick([0, 1, 1, 1, 2]) { bytes = Self.mutate(bytes, &rng, library: library) }
            let bindings: [String: Int] = rng.chance(50) ? [:] : ["batch": 2, "seq": 5]
            let c = Pipeline.compile(SourceFile(path: "m.arch", bytes: bytes), bindings: bindings)
            guard c.succeeded, let g = c.graph else { continue }
            // No values: the export's structure is under test, and a full-size spec's weights would take seconds to make.
            let weights = g.params.map { $0.isInteger ? nil : [Float]() }
            do {
                let model = try ONNXExport.model(of: g, weights: weights, options: .init(producerVersion: "fuzz", source: "m.arch"))
                if let problem = Self.wellFormed(model) { failures.append("mutant \(n): \(problem)\n\(Self.show(bytes))") }
                exported += 1
            } catch let e as ExportError {
                if e.message.contains("internal error") || e.message.isEmpty { failures.append("mutant \(n): \(e)\n\(Self.show(bytes))") }
                refused += 1
            }
        }
        print("onnx fuzz: \(exported) exported, \(refused) refused with an error")
        for f in failures.prefix(10) { XCTFail(f) }
        XCTAssertGreaterThan(exported, Self.mutantCount / 100, "some mutants should export")
    }

    /// Nil, or what is wrong with the graph.
    static func wellFormed(_ model: ModelProto) -> String? {
        let g = model.graph
        var known = Set(g.inputs.map(\.name)).union(g.initializers.map(\.name))
        guard known.count == g.inputs.count + g.initializers.count else { return "an initializer shares a name" }
        for node in g.nodes {
            if let missing = node.inputs.first(where: { !$0.isEmpty && !known.contains($0) }) {
                return "\(node.opType) '\(node.name)' reads '\(missing)' before it is made"
            }
            for o in node.outputs where !known.insert(o).inserted { return "'\(o)' is made twice" }
        }
        if let o = g.outputs.first(where: { !known.contains($0.name) }) { return "the output '\(o.name)' is never made" }
        guard ProtoWriter.encode(model).count == ProtoWriter.size(of: model) else { return "the encoding's size is not the one counted" }
        return nil
    }
}
