import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchCodegen

/// Lines that read another tensor than the running one (`from`), side branches, references into
/// groups and blocks (`enc.kv`), block parameters given tensors, computed labels and `order`.
final class DataflowTests: XCTestCase {
    func graph(_ src: String, bindings: [String: Int] = ["batch": 1], file: StaticString = #filePath, line: UInt = #line) throws -> Graph {
        let c = Support.compile(src, bindings: bindings)
        XCTAssertTrue(c.succeeded && c.diagnostics.diagnostics.isEmpty, Support.rendered(c), file: file, line: line)
        return try XCTUnwrap(c.graph, file: file, line: line)
    }

    /// Each node as `path: op(inputs) -> shape`, inputs by the path of the node that made them (or the input's name).
    func flow(_ g: Graph) -> [String] {
        func source(_ v: Int) -> String {
            g.node(producing: v).map { $0.path.joined(separator: ".") } ?? g.inputs.first { $0.value == v }?.name ?? "%\(v)"
        }
        return g.nodes.map { n in "\(n.path.joined(separator: ".")): \(n.op)(\(n.inputs.map(source).joined(separator: ", "))) -> \(describe(g.values[n.output].shape))" }
    }

    func errors(_ src: String) -> [String] {
        Support.compile(src, bindings: ["batch": 1]).diagnostics.diagnostics.filter { $0.severity == .error }.map(\.message)
    }

    /// `from LABEL` reads that tensor; the next line reads the line's result as usual. With xN, the
    /// first repetition reads it (unlabelled repetitions are named by position, as ever). Inputs, dotted members and positions inside groups are sources too.
    func testFromReadsALabelledTensor() throws {
        let g = try graph("""
        input x 8
        input y 4
        a: linear 16
        b: linear 4 from y
        relu
        layer1: seq { linear 8 from a; kv: linear 8 }
        linear 2 from layer1.kv x2
        linear 3 from layer1.0
        """)
        XCTAssertEqual(flow(g), [
            "a: linear(x) -> [1, 16]", "b: linear(y) -> [1, 4]", "2: relu(b) -> [1, 4]",
            "layer1.0: linear(a) -> [1, 8]", "layer1.kv: linear(layer1.0) -> [1, 8]",
            "4: linear(layer1.kv) -> [1, 2]", "5: linear(4) -> [1, 2]", "6: linear(layer1.0) -> [1, 3]",
        ])
    }

    /// A branch computes from the running tensor (or `from`), labels its result, and leaves the
    /// running tensor as it was; its layers are named in the enclosing group. An empty branch labels
    /// its input (a block's input, here).
    func testBranchesKeepTheRunningTensor() throws {
        let g = try graph("""
        input x 8
        block highway(w) {
          branch input {}
          branch t { gate: linear w; sigmoid }
          branch carry { rsub 1 from t; mul input }
          proj: linear w
          mul t
          add carry
        }
        h: highway 8
        branch side from h { side_fc: linear 4 }
        out: linear 2
        concat side
        """)
        XCTAssertEqual(flow(g), [
            "h.gate: linear(x) -> [1, 8]", "h.1: sigmoid(h.gate) -> [1, 8]", "h.2: rsub(h.1) -> [1, 8]", "h.3: mul(h.2, x) -> [1, 8]",
            "h.proj: linear(x) -> [1, 8]", "h.5: mul(h.proj, h.1) -> [1, 8]", "h.6: add(h.5, h.3) -> [1, 8]",
            "side_fc: linear(h.6) -> [1, 4]", "out: linear(h.6) -> [1, 2]", "3: concat(out, side_fc) -> [1, 6]",
        ])
    }

    /// Labels inside a group or block are reached by dotted paths, so a block has several outputs;
    /// a block parameter given a label passes that tensor in.
    func testBlocksWithSeveralOutputsAndTensorArguments() throws {
        let g = try graph("""
        input x [seq, 8]
        block encode(w) {
          k: linear w
          v: linear w
        }
        block attend(memory, w) {
          q: linear w
          mul memory
          add memory from memory
        }
        enc: encode 8
        att: attend enc.v 8 from enc.k
        layers: seq { encode 8 x2 }
        linear 8 from layers.1.k
        """, bindings: ["batch": 1, "seq": 3])
        XCTAssertEqual(Array(flow(g)[2...4]), ["att.q: linear(enc.k) -> [1, 3, 8]", "att.1: mul(att.q, enc.v) -> [1, 3, 8]",
                                               "att.2: add(enc.v, enc.v) -> [1, 3, 8]"])
        XCTAssertEqual(flow(g).last, "3: linear(layers.1.k) -> [1, 3, 8]")
        // A dotted reference reaches weights too: a head tied to an embedding inside a block.
        let tied = try graph("input ids [seq] tokens\nblock embed_block(v) { wte: embed v 8 }\nemb: embed_block 50\nhead: linear 50 bias off tied emb.wte\n",
                             bindings: ["batch": 1, "seq": 3])
        XCTAssertEqual(tied.params.map(\.name), ["emb.wte.weight"])
        XCTAssertEqual(tied.nodes.last?.params, [0])
    }

    /// PVT's spatial-reduction attention: keys and values from a branch that shrinks the token grid,
    /// queries from the running tokens; and TNT's two streams, the inner one's projection added to
    /// the outer tokens after the class token (a slice, an add and a concat).
    func testSideStreams() throws {
        let pvt = try graph("""
        input x [64, 32]
        block sra(c, heads, ratio) {
          branch kv {
            transpose 1 2
            view [batch, c, 8, 8]
            sr: conv ratio c stride ratio
            flatten start 2
            transpose 1 2
            norm: layernorm
          }
          attn: attention heads heads memory kv
        }
        s: sra 32 2 2
        """)
        XCTAssertEqual(flow(pvt).suffix(2), ["s.norm: layernorm(s.4) -> [1, 16, 32]", "s.attn: attention(x, s.norm) -> [1, 64, 32]"])
        let tnt = try graph("""
        input outer [5, 16]
        input inner [16, 4]
        proj: seq from inner { view [batch, 4, 16]; linear 16 }     # the inner stream, 4 patches of 4 pixels
        branch patches { slice dim 1 start 1 from outer; add proj }
        slice dim 1 end 1 from outer                                  # the class token
        concat patches
        """, bindings: ["batch": 2])
        XCTAssertEqual(flow(tnt).suffix(3), ["2: add(1, proj.1) -> [2, 4, 16]", "3: slice(outer) -> [2, 1, 16]", "4: concat(3, 2) -> [2, 5, 16]"])
    }

    /// `denselayer{index + 1}` names each repetition by an expression of `index` and the block's
    /// variables; the names are labels like any other.
    func testComputedLabels() throws {
        let g = try graph("""
        input x 8
        block stage(n, first) {
          layer{first + index}: linear n x2
        }
        denseblock{2 * 2}: stage 4 1
        s{0}: seq { conv{index}_{index * 10}: relu x2 }
        add denseblock4.layer2
        """)
        XCTAssertEqual(g.params.map(\.name), ["denseblock4.layer1.weight", "denseblock4.layer1.bias", "denseblock4.layer2.weight", "denseblock4.layer2.bias"])
        XCTAssertEqual(g.nodes.map { $0.path.joined(separator: ".") }.suffix(3), ["s0.conv0_0", "s0.conv1_10", "2"])
        XCTAssertEqual(errors("input x 8\nlayer{-1}: relu\nl{on}: relu\n"), [
            "a part of a label must be a whole number >= 0 or a name, got an integer",
            "a part of a label must be a whole number >= 0 or a name, got on/off",
        ])
        // A reference to a label that could not be computed follows from that error.
        XCTAssertEqual(errors("input x 8\nlayer{x + 1}: relu\nadd layer1\n"), ["cannot apply '+' to the word 'x' and an integer"])
    }

    /// `order` puts tensors (or modules) first among their siblings in --names, init and emit torch.
    func testOrderOfTheStateDict() throws {
        let src = """
        input image 3x8x8
        patch_embed: seq { proj: patch 4 dim 8 }
        dist_token: cls
        cls_token: cls
        pos_embed: pos learned
        head: linear 2
        order cls_token, pos_embed, dist_token
        """
        let g = try graph(src)
        XCTAssertEqual(ParamsReport.names(g).split(separator: "\n").map { String($0.split(separator: " ")[0]) },
                       ["cls_token", "pos_embed", "dist_token", "patch_embed.proj.weight", "patch_embed.proj.bias", "head.weight", "head.bias"])
        let py = try TorchEmitter.emit(g)
        let registered = py.split(separator: "\n").filter { $0.hasPrefix("        self.") && $0.contains(" = ") }.map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(registered.prefix(4), ["self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))", "self.pos_embed = nn.Parameter(torch.zeros(1, 6, 8))",
                                              "self.dist_token = nn.Parameter(torch.zeros(1, 1, 8))", "self.patch_embed = nn.Module()"])
        XCTAssertEqual(errors(src + "\norder cls_tokn, head\norder head\n"), [
            "'order' names 'cls_tokn', which is neither a tensor nor a module of the model; did you mean 'cls_token'?",
            "'head' is ordered twice",
        ])
        XCTAssertEqual(errors("input x 8\nseq { order x }\n"), ["'order' belongs at the top level of the file"])
        // A tensor inside a PyTorch module keeps that module's order when emitted.
        let inner = try graph("input x 8\nfc: linear 2\norder fc.bias\n")
        XCTAssertEqual(ParamsReport.names(inner), "fc.bias [2]\nfc.weight [2, 8]\n")
        XCTAssertThrowsError(try TorchEmitter.emit(inner)) {
            XCTAssertEqual("\($0)", "emit torch cannot put 'fc.bias' first: it is a tensor of a PyTorch module, which orders its own tensors")
        }
    }

    /// `from` and `branch` errors: unknown sources (with a dotted path's members), a missing label,
    /// a branch name used twice; references to a failed branch are silent.
    func testSourceErrors() throws {
        XCTAssertEqual(errors("""
        input x 8
        enc: seq { a: linear 8; b: linear 8 }
        linear 4 from encc
        linear 4 from enc.c
        linear 4 from
        linear 4 from x from enc
        branch enc { relu }
        branch y from nothing { relu }
        add y
        """), [
            "no earlier layer or input is labelled 'encc'; did you mean 'enc'?",
            "no earlier layer or input is labelled 'enc.c'; did you mean 'enc.a'?",
            "'from' needs the label of an earlier layer or an input",
            "'from' is given twice",
            "'enc' is already a label here",
            "no earlier layer or input is labelled 'nothing'",
        ])
    }
}
