import Foundation
import XCTest
@testable import ArchDriver
@testable import ArchEngine
@testable import ArchIO
@testable import ArchIR

/// Checkpoints as transformers writes them: sharded ones (the index, the folder, or every shard given
/// to --weights), and the errors of a file that does not fit, compared with
/// Fixtures/checkpoints/NAME.txt (`ARCHC_RECORD=1` re-records them; review the diff).
final class CheckpointTests: XCTestCase {
    static let gpt2 = "Tests/ArchTests/Fixtures/numerics/gpt2_small"
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-checkpoint-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// gpt2_small's checkpoint in two shards and transformers' index of them (as save_pretrained with
    /// max_shard_size writes it: the tensors in the order of their names).
    func shard() throws -> (first: String, second: String, index: String) {
        let tensors = try SafeTensors.read(path: Support.root.appendingPathComponent("\(Self.gpt2)/weights.safetensors").path).sorted { $0.name < $1.name }
        let half = tensors.count / 2
        let (a, b) = (path("model-00001-of-00002.safetensors"), path("model-00002-of-00002.safetensors"))
        try SafeTensors.write(Array(tensors[..<half]), to: a)
        try SafeTensors.write(Array(tensors[half...]), to: b)
        let map = tensors.enumerated().map { "\"\($0.element.name)\": \"model-0000\($0.offset < half ? 1 : 2)-of-00002.safetensors\"" }
        let index = path("model.safetensors.index.json")
        try "{\n  \"metadata\": {\"total_size\": 1234, \"format\": [\"pt\"]},\n  \"weight_map\": {\n    \(map.joined(separator: ",\n    "))\n  }\n}\n"
            .write(toFile: index, atomically: true, encoding: .utf8)
        return (a, b, index)
    }

    /// The index, its folder and the shards themselves all give the checkpoint's output.
    func testShardedCheckpointsLoad() throws {
        let (a, b, index) = try shard()
        let root = Support.root.appendingPathComponent(Self.gpt2)
        let ref = try NPY.read(path: root.appendingPathComponent("output.npy").path)
        for weights in [[index], [dir.path], [a, b], [b, a]] {
            let out = path("y.npy")
            let r = Driver.run(["run", root.appendingPathComponent("model.arch").path, "--input", root.appendingPathComponent("input.npy").path,
                                "--output", out] + weights.flatMap { ["--weights", $0] })
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stderr, "", "every tensor is used")
            let y = try NPY.read(path: out)
            XCTAssertLessThanOrEqual(largestDifference(y.floats, ref.floats), 1e-4 * 13.1, "\(weights)")
        }
        // Built programs read the same checkpoints (the engine's loader) and take --weights more than once.
        let g = try XCTUnwrap(Pipeline.compile(path: root.appendingPathComponent("model.arch").path, bindings: ["batch": 2, "seq": 9]).graph)
        let e = try Passes.run(g, threads: 1).executable
        XCTAssertEqual(try Session.load(e, weights: [index]).warnings, [])
        XCTAssertEqual(try Options(["--weights", a, "--weights", b, "--input", "ids.npy"], e).weights, [a, b])
    }

    /// The README's path: the folder save_pretrained wrote (one model.safetensors) is --weights as it is.
    func testSavePretrainedFolderLoads() throws {
        let root = Support.root.appendingPathComponent(Self.gpt2)
        let folder = path("gpt2")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("weights.safetensors").path, toPath: folder + "/model.safetensors")
        try "{\"model_type\": \"gpt2\"}\n".write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        let out = path("y.npy")
        let r = Driver.run(["run", root.appendingPathComponent("model.arch").path, "--weights", folder,
                            "--input", root.appendingPathComponent("input.npy").path, "--output", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "", "every tensor is used")
        let (y, ref) = (try NPY.read(path: out), try NPY.read(path: root.appendingPathComponent("output.npy").path))
        XCTAssertEqual(y.shape, ref.shape)
        XCTAssertLessThanOrEqual(largestDifference(y.floats, ref.floats), 1e-4 * 13.1)
    }

    func testBadShardsAndIndexesAreClearErrors() throws {
        let (a, b, index) = try shard()
        func error(_ paths: [String]) -> String {
            do { _ = try Checkpoint.read(paths); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error([a, a]), "\(a): error: tensor 'transformer.h.0.attn.c_attn.bias': \(a) holds it too; give each tensor in one file only")
        XCTAssertEqual(error([path("none.json")]), "\(path("none.json")): error: cannot read the file (no such file)")
        let empty = path("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        XCTAssertEqual(error([empty]), "\(empty): error: a folder without model.safetensors or model.safetensors.index.json (what save_pretrained writes)")
        func indexError(_ text: String) -> String {
            let p = path("bad.index.json")
            try? text.write(toFile: p, atomically: true, encoding: .utf8)
            return error([p]).replacingOccurrences(of: p, with: "I")
        }
        XCTAssertEqual(indexError("{\"metadata\": {}}"), "I: error: the index has no 'weight_map' (each tensor's shard file)")
        XCTAssertEqual(indexError("[1]"), "I: error: the index is not a JSON object")
        XCTAssertEqual(indexError("{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}"), "I: error: tensor 'a': the index names its shard twice")
        XCTAssertEqual(indexError("{\"weight_map\": {\"a\": \"../x.safetensors\"}}"), "I: error: tensor 'a': its shard '../x.safetensors' is not a file name beside the index")
        XCTAssertEqual(indexError("{\"weight_map\": {\"a\": 3}}"), "I: error: tensor 'a': its shard in the index is not a file name")
        XCTAssertEqual(indexError("{\"weight_map\": {}} x"), "I: error: the index is not valid JSON (at byte 19 of the index: unexpected bytes after the index's object)")
        XCTAssertEqual(indexError("{\"weight_map\": {\"transformer.wte.weight\": \"model-00001-of-00002.safetensors\"}}"),
                       "I: error: tensor 'transformer.wte.weight': the index puts it in \(a), which does not hold it")
        XCTAssertEqual(error([index, b]), "\(b): error: tensor 'transformer.h.1.attn.c_proj.bias': \(b) holds it too; give each tensor in one file only")
        XCTAssertEqual(indexError("{\"weight_map\": {\"a\": \"gone.safetensors\"}}"), "\(path("gone.safetensors")): error: cannot read the file (no such file)")
        XCTAssertEqual(error([index]), "no error")
    }

    /// The whole stderr of `archc run` for checkpoints that do not fit, as a user sees it.
    func testErrorsOfCheckpointsThatDoNotFit() throws {
        let (first, _, _) = try shard()
        // GPT2Model's checkpoint: the names without the LM head's 'transformer.' wrapper.
        let base = try SafeTensors.read(path: Support.root.appendingPathComponent("\(Self.gpt2)/weights.safetensors").path)
        try SafeTensors.write(base.map { (String($0.name.dropFirst("transformer.".count)), $0.tensor) }, to: path("base.safetensors"))
        let cases: [(name: String, spec: String, weights: String)] = [
            ("another_network", "\(Self.gpt2)/model.arch", "Tests/ArchTests/Fixtures/numerics/bert_small/weights.safetensors"),
            ("conv1d_not_declared", "Tests/ArchTests/Fixtures/checkpoints/gpt2_linear.arch", "\(Self.gpt2)/weights.safetensors"),
            ("base_model_names", "\(Self.gpt2)/model.arch", path("base.safetensors")),
            ("one_shard", "\(Self.gpt2)/model.arch", first),
        ]
        let record = ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1"
        try DiagnosticFileTests.inRoot {
            for c in cases {
                let r = Support.run("run", c.spec, "--weights", c.weights, "--input", "\(Self.gpt2)/input.npy")
                let rendered = "exit \(r.status)\n" + r.stderr.replacingOccurrences(of: dir.path + "/", with: "$TMP/")
                let url = Support.fixtures.appendingPathComponent("checkpoints/\(c.name).txt")
                if record { try rendered.write(to: url, atomically: true, encoding: .utf8); continue }
                let expected = try String(contentsOf: url, encoding: .utf8)
                XCTAssertEqual(rendered, expected, "\(c.name): \(DiagnosticSnapshotTests.firstDifference(rendered, expected))\n\(rendered)")
            }
        }
        XCTAssertFalse(record, "re-recorded Fixtures/checkpoints; review the diff and run again without ARCHC_RECORD")
    }
}
