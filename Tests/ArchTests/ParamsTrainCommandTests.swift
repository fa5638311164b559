import Foundation
import XCTest
@testable import ArchDriver
import ArchSemantics

/// The command line of `archc params --train`, sweeps and `--json`: the output users and tools read.
final class ParamsTrainCommandTests: XCTestCase {
    func spec(_ name: String) -> String { Support.specs.appendingPathComponent(name).path }
    let vit = Support.fixtures.appendingPathComponent("train/vit_small.arch").path

    /// The planned arena depends on this machine's cores: its line is left out of the comparison.
    func machineIndependent(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("Activation memory (fp32, planned arena") ? "Activation memory (fp32, planned arena, this machine)" : String($0) }
            .joined(separator: "\n")
    }

    /// The whole report, against Fixtures/train/vit_small_train.txt (`ARCHC_RECORD=1` re-records it).
    func testTrainingReportSnapshot() throws {
        let r = Driver.run(["params", vit, "--train", "--dtype", "bf16", "--set", "batch=2", "--depth", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let actual = machineIndependent(r.stdout).replacingOccurrences(of: Support.root.path + "/", with: "")
        let url = Support.fixtures.appendingPathComponent("train/vit_small_train.txt")
        if ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            XCTFail("recorded \(url.path); review the diff and run again without ARCHC_RECORD")
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(actual, expected, "re-record with ARCHC_RECORD=1 if the change is intended, and review the diff")
        // PyTorch's figure (timm's VisionTransformer, bf16 with the norms' statistics in f32) is in it.
        XCTAssertTrue(actual.contains("Saved for backward  162.70 KB"), actual)
    }

    func testSweepRowsAndTheirOrder() {
        let r = Driver.run(["params", spec("gpt2.arch"), "--set", "batch=1,2", "--set", "seq=4,8", "--train", "--optimizer", "sgd"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let labels = r.stdout.split(separator: "\n").compactMap { line in
            ["batch=1 seq=4", "batch=1 seq=8", "batch=2 seq=4", "batch=2 seq=8"].first { line.hasPrefix($0 + " ") }
        }
        XCTAssertEqual(labels, ["batch=1 seq=4", "batch=1 seq=8", "batch=2 seq=4", "batch=2 seq=8"], r.stdout)
        XCTAssertTrue(r.stdout.hasPrefix("gpt2: one row per size (f32 as model.to(torch.float32), SGD)\n"), r.stdout)
        // Each row has the figures `params --set` gives for its sizes alone.
        let single = Driver.run(["params", spec("gpt2.arch"), "--set", "batch=2", "--set", "seq=8"])
        let macs = single.stdout.split(separator: "\n").first { $0.hasPrefix("MACs: ") }?.split(separator: " ")[1] ?? "?"
        let row = r.stdout.split(separator: "\n").first { $0.hasPrefix("batch=2 seq=8 ") } ?? ""
        XCTAssertEqual(row.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).prefix(2), ["124,439,808", macs], r.stdout)
    }

    /// A size that makes the spec invalid is that row's error; the other rows still print; exit 1.
    func testSweepRowErrorContinues() {
        let r = Driver.run(["params", spec("gpt2.arch"), "--set", "seq=128,2048,512", "--train"])
        XCTAssertEqual(r.status, 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let rows = lines.filter { $0.hasPrefix("seq=") }
        XCTAssertEqual(rows.count, 3, r.stdout)
        XCTAssertEqual(rows[1], "seq=2048  error: the sequence has 2048 positions but pos allows at most 1024")
        XCTAssertTrue(rows[0].contains("16,114,089,984") && rows[2].contains("68,080,238,592"), r.stdout)
        XCTAssertTrue(r.stderr.contains("gpt2.arch:22:32: error: the sequence has 2048 positions but pos allows at most 1024\n"), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("note: in the sweep's row seq=2048\n1 error generated.\n"), r.stderr)
    }

    func testSweepUsageErrors() {
        let many = Driver.run(["params", spec("gpt2.arch"), "--set", "seq=1,2,3,4,5,6,7,8,9", "--set", "batch=1,2,3,4,5,6,7,8"])
        XCTAssertEqual(many.status, 2)
        XCTAssertTrue(many.stderr.hasPrefix("error: the sweep has 9 x 8 = 72 rows, more than 64; shorten a list\n"), many.stderr)
        let cases: [([String], String)] = [
            (["--set", "seq=4,,8"], "error: --set seq: the list '4,,8' has an empty value\n"),
            (["--set", "seq=4,4"], "error: --set seq lists 4 twice\n"),
            (["--set", "seq=4,8", "--set", "seq=16"], "error: --set seq is given as a list and as one value; give one\n"),
            (["--set", "seq=4,0"], "error: --set seq needs a positive whole number up to 2147483647, got '0'\n"),
            (["--set", "seq=4,8", "--depth", "1"], "error: --depth applies to the layer table; a sweep prints one row per value\n"),
        ]
        for (args, message) in cases {
            let r = Driver.run(["params", spec("gpt2.arch")] + args)
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.hasPrefix(message), r.stderr)
        }
        let typo = Driver.run(["params", spec("gpt2.arch"), "--set", "sq=4,8"])
        XCTAssertEqual(typo.stderr.components(separatedBy: "the spec has no size named 'sq'").count, 2, "said once: \(typo.stderr)")
    }

    func testTrainingUsageErrors() {
        let cases: [([String], String, Int32)] = [
            (["--train", "--optimizer", "adam"], "error: unknown optimizer 'adam'; did you mean 'adamw'? (choose one of adamw, sgd, sgd-momentum, none)\n", 2),
            (["--train", "--dtype", "bfloat17"], "error: unknown dtype 'bfloat17'; did you mean 'bf16'? (choose one of f32, bf16, f16)\n", 2),
            (["--dtype", "bf16"], "error: --dtype applies to the training figures; add --train\n", 2),
            (["--names", "--train"], "error: --names lists the state_dict; --train reports memory: give one (--json has the tensors too)\n", 2),
            (["--train"], "\(spec("gpt2.arch")): error: the activations saved for training depend on seq, which is not bound; pass --set seq=N (or a list to sweep, such as --set seq=128,512,2048)\n1 error generated.\n", 1),
        ]
        for (args, message, status) in cases {
            let r = Driver.run(["params", spec("gpt2.arch")] + args)
            XCTAssertEqual(r.status, status, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.hasPrefix(message), r.stderr)
        }
        XCTAssertEqual(Driver.run(["params", spec("mlp.arch"), "--train", "--dtype", "BF16", "--optimizer", "SGD-Momentum"]).status, 0)
    }
}
