import Foundation
import XCTest
@testable import ArchDriver
import ArchSemantics

/// The command forms later tools rely on: exit codes, --help, --version, --json, --names, --depth.
final class CommandLineTests: XCTestCase {
    func spec(_ name: String) -> String { Support.specs.appendingPathComponent(name).path }

    func testVersionAndHelp() {
        XCTAssertEqual(Support.run("--version").stdout, "archc 0.1.0\n")
        for args in [["--help"], ["check", "--help"], ["params", "--help"], ["ops", "--help"]] {
            let r = Driver.run(args)
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.contains("USAGE: archc"), "\(args)")
        }
    }

    func testUsageErrorsExitTwo() {
        XCTAssertEqual(Driver.run([]).status, 2)
        XCTAssertEqual(Support.run("frobnicate").status, 2)
        XCTAssertTrue(Support.run("chek", "x").stderr.contains("did you mean 'check'?"))
        XCTAssertEqual(Support.run("check").status, 2)
        XCTAssertEqual(Support.run("check", spec("mlp.arch"), "--bogus").status, 2)
        XCTAssertEqual(Support.run("params", spec("mlp.arch"), "--depth", "x").status, 2)
        XCTAssertEqual(Support.run("params", spec("mlp.arch"), "--set", "seq=0").status, 2)
        XCTAssertEqual(Support.run("params", spec("mlp.arch"), "--set", "seq").status, 2)
    }

    func testCheckExitCodes() throws {
        let ok = Support.run("check", spec("mlp.arch"), spec("resnet18.arch"))
        XCTAssertEqual(ok.status, 0)
        XCTAssertEqual(ok.stderr, "")
        let missing = Support.run("check", "/nonexistent/x.arch")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no such file"))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let bad = dir.appendingPathComponent("bad.arch")
        try "input x 8\nlinear 0\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = Support.run("check", spec("mlp.arch"), bad.path)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("\(bad.path):2:8: error: 'out' of 'linear' must be at least 1, got 0\n"), r.stderr)
    }

    func testParamsTable() {
        let r = Support.run("params", spec("resnet18.arch"))
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("Total params: 11,689,512\n"))
        XCTAssertTrue(r.stdout.contains("MACs: 1,814,073,344 (1.81 G-MACs)\n"))
        XCTAssertTrue(r.stdout.contains("FLOPs (2 x MACs): 3,628,146,688\n"))
        XCTAssertTrue(r.stdout.contains("Params size (fp32): 46.76 MB\n"))
        XCTAssertTrue(r.stdout.contains("layer1 (basic x2)"))
        XCTAssertTrue(r.stdout.contains("  0 (basic)"), "depth 3 shows the blocks inside layer1")
        let shallow = Support.run("params", spec("resnet18.arch"), "--depth", "1")
        XCTAssertFalse(shallow.stdout.contains("  0 (basic)"))
    }

    func testParamsJSON() throws {
        let r = Support.run("params", spec("bert_base.arch"), "--json", "--set", "seq=128")
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["params"] as? Int, 109_482_240)
        XCTAssertEqual(obj["macs"] as? Int, 11_174_215_680)
        XCTAssertEqual(obj["flops"] as? Int, 22_348_431_360)
        let layers = try XCTUnwrap(obj["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.first?["name"] as? String, "embeddings")
        XCTAssertEqual(layers.first?["output_shape"] as? [Int], [1, 128, 768])
    }

    func testParamsNames() {
        let r = Support.run("params", spec("mlp.arch"), "--names")
        XCTAssertEqual(r.stdout, "fc1.weight [2048, 1024]\nfc1.bias [2048]\nfc2.weight [100, 2048]\nfc2.bias [100]\n")
    }

    func testDumpGraph() {
        let r = Support.run("check", spec("mlp.arch"), "--dump-graph")
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("graph mlp {\n  %0 = input x : [batch, 1024]\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("param fc1.weight [2048, 1024]"))
    }

    /// Every command ends its diagnostics the same way: a missing file is "1 error generated." from
    /// params, init, run, emit and ir as from check (params said nothing after the error).
    func testEveryCommandCountsItsErrors() {
        let lines: [[String]] = [["check", "nowhere.arch"], ["params", "nowhere.arch"], ["init", "nowhere.arch", "-o", "/dev/null"],
                                 ["run", "nowhere.arch", "--weights", "w.safetensors", "--input", "x.npy"],
                                 ["emit", "torch", "nowhere.arch", "-o", "/dev/null"], ["ir", "nowhere.arch"]]
        for line in lines {
            let r = Driver.run(line)
            XCTAssertEqual(r.status, 1, line[0])
            XCTAssertEqual(r.stderr, "error: nowhere.arch: no such file\n1 error generated.\n", line[0])
        }
    }

    /// `-o -` is standard output for text (emit torch); binary outputs refuse it (a file named '-' was written).
    func testDashIsStandardOutputForText() {
        let emitted = Support.run("emit", "torch", spec("mlp.arch"), "-o", "-")
        XCTAssertEqual(emitted.status, 0, emitted.stderr)
        XCTAssertTrue(emitted.stdout.hasPrefix("import math\n"), emitted.stdout)
        XCTAssertTrue(emitted.stdout.contains("class Model(nn.Module)"), emitted.stdout)
        XCTAssertFalse(emitted.stdout.contains("wrote"))
        let refusals: [[String]] = [["init", spec("mlp.arch"), "-o", "-"], ["run", spec("mlp.arch"), "--weights", "w", "--input", "x", "--output", "-"],
                                    ["build", spec("mlp.arch"), "-o", "-"], ["build", spec("mlp.arch"), "--package", "-"]]
        for line in refusals {
            let r = Driver.run(line)
            XCTAssertEqual(r.status, 2, line.joined(separator: " "))
            XCTAssertTrue(r.stderr.hasPrefix("error: ") && r.stderr.contains("not '-'"), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "-"))
    }

    /// `--set` of a size the spec does not have is an error naming the spec's sizes (it was ignored).
    func testSetOfAnUndeclaredSizeIsAnError() {
        let typo = Support.run("check", spec("gpt2.arch"), "--set", "sq=128")
        XCTAssertEqual(typo.status, 1)
        XCTAssertTrue(typo.stderr.hasPrefix("error: --set sq=128: the spec has no size named 'sq'; did you mean 'seq'?\n"), typo.stderr)
        XCTAssertTrue(typo.stderr.contains("note: its sizes: batch, seq\n"), typo.stderr)
        for command in ["params", "ir", "emit"] {
            let args = command == "emit" ? ["emit", "torch", spec("mlp.arch"), "-o", "/dev/null", "--set", "seq=4"] : [command, spec("mlp.arch"), "--set", "seq=4"]
            let r = Driver.run(args)
            XCTAssertEqual(r.status, 1, command)
            XCTAssertTrue(r.stderr.contains("error: --set seq=4: the spec has no size named 'seq'\nnote: its sizes: batch"), r.stderr)
        }
        XCTAssertEqual(Support.run("params", spec("gpt2.arch"), "--set", "seq=8", "--set", "batch=2").status, 0)
    }

    /// `archc ops conv` shows one op (other spellings too); `--json` is data a tool can read.
    func testOpsNamedAndAsJSON() throws {
        let conv = Support.run("ops", "conv2d")
        XCTAssertEqual(conv.status, 0)
        XCTAssertTrue(conv.stdout.hasPrefix("conv KERNEL OUT\n"), conv.stdout)
        XCTAssertFalse(conv.stdout.contains("\nlinear"))
        XCTAssertEqual(Support.run("ops", "cnv").stderr, "error: unknown op 'cnv'; did you mean 'conv'?\n")
        XCTAssertEqual(Support.run("ops", "--json", "--markdown").status, 2)

        func ops(_ args: String...) throws -> [[String: Any]] {
            let r = Driver.run(["ops", "--json"] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return try XCTUnwrap(object["ops"] as? [[String: Any]])
        }
        XCTAssertEqual(try ops().count, OpRegistry.all.count)
        XCTAssertEqual(try ops("norm").compactMap { $0["name"] as? String }, ["batchnorm", "groupnorm", "layernorm", "rmsnorm"])
        let one = try XCTUnwrap(try ops("conv").first)
        XCTAssertEqual(one["name"] as? String, "conv")
        XCTAssertEqual(one["signature"] as? String, "conv KERNEL OUT")
        XCTAssertEqual(one["params"] as? String, "weight [out, c / groups, *kernel], bias [out]")
        XCTAssertNotNil(one["shape"] as? String)
        XCTAssertNotNil(one["macs"] as? String)
        let args = try XCTUnwrap(one["arguments"] as? [[String: Any]])
        let groups = try XCTUnwrap(args.first { $0["name"] as? String == "groups" })
        XCTAssertEqual(groups["kind"] as? String, "int_or_choice")
        XCTAssertEqual(groups["choices"] as? [String], ["depthwise"])
        XCTAssertEqual(groups["default"] as? Int, 1)
        XCTAssertEqual(groups["positional"] as? Bool, false)
        let kernel = try XCTUnwrap(args.first)
        XCTAssertEqual(kernel["required"] as? Bool, true)
        XCTAssertTrue(kernel["default"] is NSNull)
    }

    func testOpsListsEveryOp() {
        let r = Support.run("ops")
        for name in ["linear", "conv", "attention", "sgu", "moe", "lstm", "patchmerge", "residual"] {
            XCTAssertTrue(r.stdout.contains("\n\(name)") || r.stdout.hasPrefix(name), name)
        }
    }
}
