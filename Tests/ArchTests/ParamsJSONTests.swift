import Foundation
import XCTest
@testable import ArchDriver
import ArchSemantics

/// `archc params --json` parses with Foundation and carries what the tables show and more.
final class ParamsJSONTests: XCTestCase {
    func spec(_ name: String) -> String { Support.specs.appendingPathComponent(name).path }

    func object(_ args: [String]) throws -> [String: Any] {
        let r = Driver.run(["params"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    func testTrainingJSONRoundTrip() throws {
        let o = try object([spec("gpt2.arch"), "--train", "--json", "--dtype", "bf16", "--set", "seq=16", "--set", "batch=2"])
        XCTAssertEqual(o["schema_version"] as? Int, 1)
        // The keys of before stay, with their values.
        for key in ["model", "params", "trainable_params", "buffer_elements", "macs", "flops", "other_ops", "param_bytes",
                    "activation_bytes", "output_shape", "unbound_symbols", "layers"] {
            XCTAssertNotNil(o[key], key)
        }
        XCTAssertEqual(o["params"] as? Int, 124_439_808)
        XCTAssertEqual(o["bindings"] as? [String: Int], ["batch": 2, "seq": 16])
        let layers = try XCTUnwrap(o["layers"] as? [[String: Any]])
        let wte = try XCTUnwrap(layers.first)
        XCTAssertEqual(wte["name"] as? String, "transformer.wte")
        XCTAssertEqual(wte["source"] as? String, spec("gpt2.arch") + ":21:1")
        XCTAssertEqual(wte["line"] as? Int, 21)
        let attn = try XCTUnwrap(layers.first { $0["name"] as? String == "transformer.h.0.attn" })
        XCTAssertEqual(attn["line"] as? Int, 13, "a layer of the spec's own block points at its own line")
        XCTAssertNil(attn["from_prelude"])
        // A prelude block's layers point at the line using the block (bert_layer's 'layer: encoder ...').
        let bert = try XCTUnwrap(try object([spec("bert_layer.arch"), "--json", "--set", "seq=16"])["layers"] as? [[String: Any]])
        let bertAttn = try XCTUnwrap(bert.first { $0["name"] as? String == "layer.attn" })
        XCTAssertEqual(bertAttn["line"] as? Int, 14, "a prelude layer points at the line using its block")
        XCTAssertEqual(bertAttn["from_prelude"] as? Bool, true)
        let layerTraining = try XCTUnwrap(wte["training"] as? [String: Int])
        XCTAssertEqual(layerTraining["weights_bytes"], 50_257 * 768 * 2)

        let tensors = try XCTUnwrap(o["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.count, 148, "the tied head is listed once")
        XCTAssertEqual(tensors.first?["name"] as? String, "transformer.wte.weight")
        XCTAssertEqual(tensors.first?["shape"] as? [Int], [50_257, 768])
        XCTAssertEqual(tensors.first?["dtype"] as? String, "bf16")
        XCTAssertEqual(tensors.first?["tied"] as? [String], ["lm_head.weight"])
        // Conv1D's weight as transformers stores it, [in, out] ('weights conv1d'), counted the same.
        let cAttn = try XCTUnwrap(tensors.first { $0["name"] as? String == "transformer.h.0.attn.c_attn.weight" })
        XCTAssertEqual(cAttn["shape"] as? [Int], [768, 2_304])

        let training = try XCTUnwrap(o["training"] as? [String: Any])
        XCTAssertEqual(training["optimizer_states"] as? [String], ["exp_avg", "exp_avg_sq"])
        let totals = try XCTUnwrap(training["totals"] as? [String: Int])
        XCTAssertEqual(totals["saved_bytes"], 9_582_080 + 3_200, "PyTorch's figure (see TrainingMemoryTests)")
        XCTAssertEqual(totals["weights_bytes"], 124_439_808 * 2)
        let saved = try XCTUnwrap(training["saved"] as? [[String: Any]])
        XCTAssertEqual(saved.compactMap { $0["bytes"] as? Int }.reduce(0, +), totals["saved_bytes"])
        XCTAssertEqual(saved.first?["what"] as? String, "token ids")
        XCTAssertEqual(saved.first?["dtype"] as? String, "int64")
        XCTAssertEqual(saved.first { $0["what"] as? String == "logsumexp" }?["dtype"] as? String, "f32")
    }

    func testNamesAsJSON() throws {
        let o = try object([spec("resnet18.arch"), "--names", "--json"])
        XCTAssertEqual(o["schema_version"] as? Int, 1)
        let tensors = try XCTUnwrap(o["tensors"] as? [[String: Any]])
        let names = Driver.run(["params", spec("resnet18.arch"), "--names"]).stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        XCTAssertEqual(tensors.compactMap { $0["name"] as? String }, names, "the same tensors in the same order")
        let tracked = try XCTUnwrap(tensors.first { $0["name"] as? String == "bn1.num_batches_tracked" })
        XCTAssertEqual(tracked["kind"] as? String, "buffer")
        XCTAssertEqual(tracked["dtype"] as? String, "int64")
        XCTAssertEqual(tracked["trainable"] as? Bool, false)
        XCTAssertEqual(tracked["shape"] as? [Int], [])
    }

    func testSweepJSON() throws {
        let r = Driver.run(["params", spec("gpt2.arch"), "--set", "seq=8,2048", "--train", "--json"])
        XCTAssertEqual(r.status, 1)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(o["sweep"] as? [String], ["seq"])
        let rows = try XCTUnwrap(o["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["label"] as? String }, ["seq=8", "seq=2048"])
        XCTAssertEqual(rows[0]["bindings"] as? [String: Int], ["batch": 1, "seq": 8])
        XCTAssertEqual(rows[0]["params"] as? Int, 124_439_808)
        XCTAssertNotNil((rows[0]["training"] as? [String: Int])?["total_bytes"])
        XCTAssertTrue(rows[0]["error"] is NSNull)
        XCTAssertEqual(rows[1]["error"] as? String, "the sequence has 2048 positions but pos allows at most 1024")
        XCTAssertNil(rows[1]["params"])
    }

    /// Names from the spec reach the JSON escaped (a control character, a quote).
    func testHostileNamesStayValidJSON() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-json-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("q\"uote.arch")
        try "model m\ninput x 8\nfc: linear 4\n".write(to: file, atomically: true, encoding: .utf8)
        let o = try object([file.path, "--train", "--json"])
        let layers = try XCTUnwrap(o["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.first?["source"] as? String, file.path + ":3:1")
    }
}
