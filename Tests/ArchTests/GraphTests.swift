import Foundation
import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchGraph

/// `archc graph`: the diagram (every graph node drawn once, repeated blocks once with their count,
/// `params`'s figures), its layout (no overlaps, edges from box to box, frames around exactly their
/// nodes), the three formats (snapshots, well-formed XML, hostile names escaped) and the command line.
final class GraphTests: XCTestCase {
    /// Every spec of specs/, so a new one is drawn too.
    static var specNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Support.specs.path)) ?? []).filter { $0.hasSuffix(".arch") }
            .map { String($0.dropLast(5)) }.sorted()
    }

    static func graph(_ name: String, bindings: [String: Int] = [:]) throws -> Graph {
        let c = Pipeline.compile(path: Support.specs.appendingPathComponent("\(name).arch").path, bindings: bindings)
        XCTAssertTrue(c.succeeded, Support.rendered(c))
        return try XCTUnwrap(c.graph)
    }

    /// The diagram as the command makes it: counts from `Summary`, the `params` table's own figures.
    static func diagram(_ g: Graph, depth: Int) throws -> Diagram {
        let s = try Summary(g, arena: false)
        return DiagramBuilder.build(g, moduleParams: s.rows.map(\.params), totalParams: s.params, depth: depth)
    }

    func testEverySpecAtEveryDepthKeepsTheLayoutInvariants() throws {
        XCTAssertGreaterThanOrEqual(Self.specNames.count, 20, "the specs folder was found")
        for name in Self.specNames {
            let g = try Self.graph(name)
            for depth in [1, 2, 3, 5] {
                let d = try Self.diagram(g, depth: depth)
                let context = "\(name) at depth \(depth)"
                Self.checkDiagram(d, g, context)
                Self.checkLayout(d, Layout.make(d), context)
            }
        }
    }

    /// Every graph node is drawn by exactly one diagram node (a layer, block or merge), every such
    /// node draws at least one, each input once, one output; the edges join distinct nodes once each.
    static func checkDiagram(_ d: Diagram, _ g: Graph, _ context: String) {
        XCTAssertEqual(d.nodeOfGraphNode.count, g.nodes.count, context)
        let drawn = Set(d.nodeOfGraphNode)
        for (i, n) in d.nodes.enumerated() {
            switch n.kind {
            case .layer, .merge: XCTAssertTrue(drawn.contains(i), "\(context): \(n.path) draws no graph node")
            case .input, .output: XCTAssertFalse(drawn.contains(i), "\(context): \(n.path)")
            }
        }
        XCTAssertEqual(d.nodes.filter { $0.kind == .input }.map(\.title), g.inputs.map(\.name), context)
        XCTAssertEqual(d.nodes.filter { $0.kind == .output }.count, 1, context)
        XCTAssertEqual(Set(d.edges).count, d.edges.count, "\(context): an edge drawn twice")
        for e in d.edges { XCTAssertNotEqual(e.from, e.to, context) }
        XCTAssertEqual(d.totalParams, g.parameterCount, context)
    }

    static func checkLayout(_ d: Diagram, _ l: Layout, _ context: String) {
        XCTAssertEqual(l.nodes.count, d.nodes.count)
        for i in l.nodes.indices {
            for j in l.nodes.indices where j > i {
                XCTAssertFalse(l.nodes[i].intersects(l.nodes[j]), "\(context): \(d.nodes[i].path) overlaps \(d.nodes[j].path)")
            }
        }
        for (k, e) in d.edges.enumerated() {
            let p = l.edges[k], from = l.nodes[e.from], to = l.nodes[e.to]
            XCTAssertGreaterThanOrEqual(p.count, 2, "\(context): edge \(k) is not drawn")
            guard let first = p.first, let last = p.last else { continue }
            XCTAssertTrue(from.contains(first, tolerance: 0.5) && first.y >= from.midY, "\(context): edge \(k) does not leave \(d.nodes[e.from].path)'s bottom")
            XCTAssertTrue(to.contains(last, tolerance: 0.5) && last.y <= to.midY, "\(context): edge \(k) does not enter \(d.nodes[e.to].path)'s top")
            for (a, b) in zip(p, p.dropFirst()) { XCTAssertLessThanOrEqual(a.y, b.y + 0.01, "\(context): edge \(k) goes up") }
        }
        for (c, cluster) in d.clusters.enumerated() {
            let frame = l.clusters[c]
            for (i, node) in d.nodes.enumerated() {
                if d.clusterChain(of: i).contains(c) {
                    XCTAssertTrue(frame.contains(l.nodes[i]), "\(context): \(node.path) sticks out of \(cluster.path)'s frame")
                } else {
                    XCTAssertFalse(frame.intersects(l.nodes[i]), "\(context): \(node.path) lies inside \(cluster.path)'s frame")
                }
            }
            if let p = cluster.parent { XCTAssertTrue(l.clusters[p].contains(frame), "\(context): \(cluster.path) sticks out of its parent") }
        }
        XCTAssertTrue(l.width > 0 && l.height > 0, context)
    }

    /// ViT-B/16's twelve encoder layers: one box with ×12 at depth 3 (the `params` row of `layers`),
    /// one frame with ×12 around the first layer's parts at depth 4, every layer's nodes drawn there.
    func testRepeatedBlockIsDrawnOnceWithItsCount() throws {
        let g = try Self.graph("vit_b16")
        let d3 = try Self.diagram(g, depth: 3)
        let layers = try XCTUnwrap(d3.nodes.first { $0.path == "encoder.layers" })
        XCTAssertEqual([layers.title, layers.op, layers.shape], ["layers", "vit_layer", "B×197×768"])
        XCTAssertEqual(layers.count, 12)
        XCTAssertEqual(layers.params, 85_054_464)
        XCTAssertEqual(d3.nodes.map(\.title), ["image", "conv_proj", "class_token", "pos_embedding", "dropout", "layers", "ln", "take", "head", "output"])

        let d4 = try Self.diagram(g, depth: 4)
        let frame = try XCTUnwrap(d4.clusters.firstIndex { $0.path == "encoder.layers" })
        XCTAssertEqual(d4.clusters[frame].count, 12)
        XCTAssertEqual(d4.clusters[frame].params, 85_054_464)
        let inside = d4.nodes.indices.filter { d4.nodes[$0].cluster == frame }
        XCTAssertEqual(inside.map { d4.nodes[$0].title }, ["ln_1", "self_attention", "dropout", "+", "ln_2", "mlp", "+"])
        XCTAssertEqual(inside.map { d4.nodes[$0].params }, [1_536, 2_362_368, 0, 0, 1_536, 4_722_432, 0])
        // encoder_layer_7's attention is drawn by encoder_layer_0's box.
        let attention = { (layer: Int) in g.nodes.firstIndex { $0.path == ["encoder", "layers", "encoder_layer_\(layer)", "self_attention"] }! }
        XCTAssertEqual(d4.nodeOfGraphNode[attention(7)], d4.nodeOfGraphNode[attention(0)])
        XCTAssertFalse(d4.nodes.contains { $0.path.contains("encoder_layer_1") })
    }

    /// The boxes carry `archc params`'s figures: ResNet-18's top-level boxes add up to its total.
    func testBoxesCarryTheParamsTableFigures() throws {
        let g = try Self.graph("resnet18")
        let d = try Self.diagram(g, depth: 1)
        let boxes = d.nodes.filter { $0.kind == .layer }
        XCTAssertEqual(boxes.map(\.title), ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"])
        XCTAssertEqual(boxes.map(\.params), [9_408, 128, 0, 0, 147_968, 525_568, 2_099_712, 8_393_728, 0, 513_000])
        XCTAssertEqual(boxes.reduce(0) { $0 + $1.params }, 11_689_512)
        XCTAssertEqual(boxes.map(\.count), [1, 1, 1, 1, 2, 1, 1, 1, 1, 1])
        XCTAssertEqual(boxes[4].op, "basic")
        XCTAssertEqual(boxes.map(\.shape).last, "B×1000")
        XCTAssertEqual(d.edges.count, boxes.count + 1)
    }

    /// Residual and parallel branches are edges: ResNet-18's identity skip runs from the block's
    /// input to its add; the projection shortcut is a branch beside the body; U-Net's skips reach
    /// the concatenations.
    func testBranchesAreEdges() throws {
        let d = try Self.diagram(try Self.graph("resnet18"), depth: 3)
        func node(_ path: String) -> Int { d.nodes.firstIndex { $0.path == path }! }
        XCTAssertTrue(d.edges.contains(.init(from: node("maxpool"), to: node("layer1.0.(add)"))))
        XCTAssertTrue(d.edges.contains(.init(from: node("layer1.0.bn2"), to: node("layer1.0.(add)"))))
        XCTAssertTrue(d.edges.contains(.init(from: node("layer2.0.downsample"), to: node("layer2.0.(add)"))))
        XCTAssertTrue(d.edges.contains(.init(from: node("layer1.0.5"), to: node("layer2.0.downsample"))), "the shortcut branches off the block's input")
        XCTAssertTrue(d.edges.contains(.init(from: node("layer1.0.5"), to: node("layer2.0.conv1"))))
        XCTAssertEqual(d.nodes[node("layer2.0.downsample")].params, 8_448)

        let u = try Self.diagram(try Self.graph("unet"), depth: 1)
        func unode(_ path: String) -> Int { u.nodes.firstIndex { $0.path == path }! }
        XCTAssertTrue(u.edges.contains(.init(from: unode("enc2"), to: unode("6"))), "enc2's skip to its concat")
        XCTAssertTrue(u.edges.contains(.init(from: unode("enc1"), to: unode("9"))), "enc1's skip to its concat")
        XCTAssertEqual(u.nodes[unode("6")].kind, .merge)
        XCTAssertEqual(u.nodes[unode("6")].shape, "B×64×32×32")
    }

    /// Shapes are symbolic (`B`, `seq`) unless bound with --set.
    func testShapesSymbolicOrBound() throws {
        let gpt = try Self.diagram(try Self.graph("gpt2"), depth: 1)
        XCTAssertEqual(gpt.nodes.first { $0.title == "wte" }?.shape, "B×seq×768")
        XCTAssertEqual(gpt.shapeNote, "B = batch")
        let bound = try Self.diagram(try Self.graph("gpt2", bindings: ["batch": 2, "seq": 128]), depth: 1)
        XCTAssertEqual(bound.nodes.first { $0.title == "wte" }?.shape, "2×128×768")
        XCTAssertNil(bound.shapeNote)
        XCTAssertEqual(ShapeText.format([Dim(symbol: "batch"), try Dim(symbol: "seq").plus(1), Dim(768)]), "B×(seq+1)×768")
    }
}
