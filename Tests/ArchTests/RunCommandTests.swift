import Foundation
import XCTest
@testable import ArchDriver
@testable import ArchIO
@testable import ArchKernels
@testable import ArchIR
@testable import ArchEngine

/// `archc init` and `archc run` end to end, and their errors on bad files.
final class RunCommandTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-run-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func spec(_ text: String) throws -> String {
        let p = path("net.arch")
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    func testInitThenRun() throws {
        let s = try spec("input x 4\nfc: linear 3\nsoftmax\n")
        XCTAssertEqual(Support.run("init", s, "-o", path("w.safetensors"), "--seed", "5").status, 0)
        try NPY.write(Tensor(shape: [2, 4], floats: [1, 2, 3, 4, -1, -2, -3, -4]), to: path("x.npy"))
        let r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"), "--output", path("y.npy"), "--top", "1")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("output [2, 3] in "))
        XCTAssertTrue(r.stdout.contains("top-1[1]: "))
        let y = try NPY.read(path: path("y.npy"))
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.floats[0] + y.floats[1] + y.floats[2], 1, accuracy: 1e-5, "softmax rows sum to 1")
    }

    /// --dump-ir prints the planned program it runs; --profile the time per kind of step, with
    /// every executed step counted; --repeat gives the same answer on every run (the arena is reused).
    func testDumpIRProfileAndRepeat() throws {
        let s = try spec("input x 4\nfc: linear 8\nrelu\nflatten\nout: linear 3\n")
        _ = Support.run("init", s, "-o", path("w.safetensors"))
        try NPY.write(Tensor(shape: [2, 4], floats: [1, 2, 3, 4, -1, -2, -3, -4]), to: path("x.npy"))
        let once = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"), "--output", path("y1.npy"))
        let r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"), "--output", path("y5.npy"),
                            "--repeat", "5", "--dump-ir", "--profile")
        XCTAssertEqual(once.status, 0, once.stderr)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("program net after lower, fuse, schedule, prepare, tile, plan, \(Parallel.cores) thread"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\n  %0 = input x : [2, 4] @b0\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("%2 = linear(%0) rows 2, inFeatures 4, outFeatures 8, weight c4, bias c1, activation relu, threads 1 : [2, 8] @b1  # fc + relu"), r.stdout)
        XCTAssertTrue(r.stdout.contains("%3 = view(%2) : [2, 8] @b1 (view)  # 2"), r.stdout)
        XCTAssertTrue(r.stdout.contains("c4 = linearWeights(c0, 8x4) : 128 floats  # fc.weight (packed)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("(median of 5)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("profile, each step's median over 5 runs: "), r.stdout)
        XCTAssertTrue(r.stdout.contains("\nlinear+relu                      1"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\nlinear                           1"), r.stdout)
        XCTAssertEqual(try NPY.read(path: path("y1.npy")).floats, try NPY.read(path: path("y5.npy")).floats)
        // --profile-steps K lists the K slowest steps (the default 10 would list all three here).
        let one = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"), "--profile-steps", "1")
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("profile of the run: "), one.stdout)
        let listed = one.stdout.components(separatedBy: "slowest steps:\n").last ?? ""
        XCTAssertEqual(listed.split(separator: "\n").count, 1, one.stdout)
        // Over several runs each step's own median, not one run's times: a step slowed in one run
        // only (another job on the core) does not show.
        XCTAssertEqual(ProfileReport.medians([[1, 5, 0.5], [3, 1, 0.5], [2, 9, 40]]), [2, 5, 0.5])
        // Only the last runs are kept for the medians, however many are asked for.
        let many = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"), "--repeat", "300", "--profile")
        XCTAssertEqual(many.status, 0, many.stderr)
        XCTAssertTrue(many.stdout.contains("profile, each step's median over \(ProfileReport.runsKept) runs: "), many.stdout)
    }

    /// A network too large for the machine's memory is refused with the sizes, not left to the allocator.
    func testTooLargeForMemoryIsAnError() throws {
        let s = try spec("input x 4000\nfc: linear 4000000\n")
        let r = Support.run("init", s, "-o", path("w.safetensors"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: this needs 128.0 GB of memory (parameters 64.0 GB, the file's bytes 64.0 GB); this machine has "), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("w.safetensors")))
    }

    /// The run's memory budget counts the weights as loaded from the file next to the constants made
    /// from them, the activations and the inputs (the loaded copy once went uncounted).
    func testRunBudgetCountsTheLoadedWeights() throws {
        let c = Support.compile("input x 4\nfc: linear 3\n", bindings: ["batch": 2])
        let program = try Passes.run(try XCTUnwrap(c.graph))
        let terms = try Driver.runMemoryTerms(program: program, inputs: ["x": Tensor(shape: [2, 4], ints: Array(repeating: 0, count: 8))], loadedWeights: 15)
        XCTAssertEqual(terms.map(\.what), ["weights as loaded", "constants (folded and packed weights)", "activations", "inputs"])
        // The weight [3, 4] and bias [3] as stored (15), and the weight packed into a 32-column panel (4 x 32).
        XCTAssertEqual(terms.map(\.floats), [15, 15 + 4 * 32, program.arenaCount, 16])
    }

    /// A symbolic size bound to 0 by an input file is refused, as `--set` refuses it.
    func testZeroSizedInputIsAnError() throws {
        let s = try spec("input x [seq, 4]\nfc: linear 3\n")
        _ = Support.run("init", s, "-o", path("w.safetensors"), "--set", "seq=2")
        try NPY.write(Tensor(shape: [1, 0, 4], floats: []), to: path("x.npy"))
        let r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: input 'x' gives seq the size 0; sizes must be positive\n")
    }

    func testErrorsNameTheFileAndTensor() throws {
        let s = try spec("input x 4\nfc: linear 3\n")
        try NPY.write(Tensor(shape: [1, 4], floats: [0, 0, 0, 0]), to: path("x.npy"))
        // Missing weights file.
        var r = Support.run("run", s, "--weights", path("none.safetensors"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("none.safetensors: error: cannot read the file (no such file)"), r.stderr)
        // A tensor of the wrong shape, and one missing.
        try SafeTensors.write([("fc.weight", Tensor(shape: [4, 3], floats: Array(repeating: 0, count: 12)))], to: path("w.safetensors"))
        r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("tensor 'fc.weight' has shape [4, 3] but the spec needs [3, 4]"), r.stderr)
        XCTAssertTrue(r.stderr.contains("declared by the layer at \(s):2:1"), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("w.safetensors does not fit the network: 1 tensor missing, 1 mis-shaped; 0 tensors in the file are unused\n"), r.stderr)
        // An input of the wrong shape.
        _ = Support.run("init", s, "-o", path("w.safetensors"))
        try NPY.write(Tensor(shape: [1, 5], floats: Array(repeating: 0, count: 5)), to: path("bad.npy"))
        r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("bad.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("input 'x' has shape [1, 5] but the network expects [1, 4]"), r.stderr)
        // NaN in the input: a warning, and the run goes on.
        try NPY.write(Tensor(shape: [1, 4], floats: [.nan, 0, 0, 0]), to: path("nan.npy"))
        r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("nan.npy"))
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("warning: the input holds NaN or infinite values"))
        // A truncated weights file.
        let good = try Data(contentsOf: URL(fileURLWithPath: path("w.safetensors")))
        try good.prefix(good.count - 4).write(to: URL(fileURLWithPath: path("cut.safetensors")))
        r = Support.run("run", s, "--weights", path("cut.safetensors"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("truncated?"), r.stderr)
    }

    func testTokenIdsAreChecked() throws {
        let s = try spec("input ids [seq] tokens\nembed 10 4\n")
        _ = Support.run("init", s, "-o", path("w.safetensors"))
        try NPY.write(Tensor(shape: [1, 3], ints: [1, 2, 99]), to: path("ids.npy"))
        let r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("ids.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("token id 99.0 is outside the vocabulary of 10"), r.stderr)
    }

    /// Every numeric option is a whole number in range, or a usage error naming it: none is ignored,
    /// clamped or trapped on (`--top -1` trapped in Collection.prefix).
    func testNumericOptionsAreValidated() throws {
        let s = try spec("input x 4\nfc: linear 3\n")
        _ = Support.run("init", s, "-o", path("w.safetensors"))
        try NPY.write(Tensor(shape: [1, 4], floats: [1, 2, 3, 4]), to: path("x.npy"))
        let run = ["run", s, "--weights", path("w.safetensors"), "--input", path("x.npy")]
        let cases: [([String], String)] = [
            (["--top", "-1"], "--top needs a whole number from 1 to 2147483647, got '-1'"),
            (["--top", "0"], "--top needs a whole number from 1 to 2147483647, got '0'"),
            (["--top", "abc"], "--top needs a whole number from 1 to 2147483647, got 'abc'"),
            (["--top", "99999999999999999999"], "--top needs a whole number from 1 to 2147483647, got '99999999999999999999'"),
            (["--repeat", "-5"], "--repeat needs a whole number from 1 to 1000000, got '-5'"),
            (["--repeat", "0"], "--repeat needs a whole number from 1 to 1000000, got '0'"),
            (["--top", "2", "--top", "3"], "--top is given twice"),
            (["--top"], "--top needs a value"),
            (["--input"], "--input needs a value"),
        ]
        for (extra, message) in cases {
            let r = Driver.run(run + extra)
            XCTAssertEqual(r.status, 2, "\(extra)")
            XCTAssertTrue(r.stderr.hasPrefix("error: \(message)\n"), "\(extra): \(r.stderr)")
        }
        XCTAssertTrue(Driver.run(["params", s, "--depth", "-1"]).stderr.hasPrefix("error: --depth needs a whole number from 0 to 2147483647, got '-1'"))
        XCTAssertTrue(Driver.run(["init", s, "-o", path("w2.safetensors"), "--seed", "-1"]).stderr.hasPrefix("error: --seed needs a whole number from 0 to "))
        XCTAssertTrue(Driver.run(["params", s, "--set", "batch=2", "--set", "batch=3"]).stderr.hasPrefix("error: --set batch is given twice (2 and 3)"))
        // In range: --top larger than the classes shows them all.
        let r = Driver.run(run + ["--top", "2147483647", "--repeat", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.components(separatedBy: "top-2147483647[0]: ").last?.components(separatedBy: ", ").count, 3, r.stdout)
    }

    /// NaN and infinities print as such (NaN printed as `nan.00000`), and rank last in --top.
    func testNonFiniteValuesPrintAsSuch() {
        XCTAssertEqual(Format.fixed(.nan, 5), "nan")
        XCTAssertEqual(Format.fixed(-.infinity, 4), "-inf")
        XCTAssertEqual(Format.fixed(.infinity, 1), "inf")
        XCTAssertEqual(Format.fixed(1e20, 2), "100000000000000000000.00")
        XCTAssertEqual(Format.fixed(-0.5, 3), "-0.500")
        XCTAssertEqual(RunReport.top(3, of: [.nan, 2, .infinity, -1, .nan, 2], rowLength: 3),
                       "top-3[0]: 2 (inf), 1 (2.0000), 0 (nan)\ntop-3[1]: 2 (2.0000), 0 (-1.0000), 1 (nan)\n")
    }

    /// Files are matched to the declared inputs: too many is an error saying how many there are
    /// (it said "no input named ''"); an input given twice too.
    func testInputFilesMatchTheDeclaredInputs() throws {
        let s = try spec("input x 4\nfc: linear 3\n")
        _ = Support.run("init", s, "-o", path("w.safetensors"))
        try NPY.write(Tensor(shape: [1, 4], floats: [1, 2, 3, 4]), to: path("x.npy"))
        var r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "error: the network has one input ('x'), but 2 --input files were given\n")
        r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", "x=" + path("x.npy"), "--input", "x=" + path("x.npy"))
        XCTAssertEqual(r.stderr, "error: input 'x' is given twice\n")
        r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", "y=" + path("x.npy"))
        XCTAssertEqual(r.stderr, "error: the network has no input named 'y'\nnote: its inputs: x\n")
        // Named and plain files together: the plain one goes to the input not named.
        let two = try spec("input a 4\ninput b 4\nadd b\n")
        _ = Support.run("init", two, "-o", path("w2.safetensors"))
        r = Support.run("run", two, "--weights", path("w2.safetensors"), "--input", "b=" + path("x.npy"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("first values: 2.00000 4.00000 6.00000 8.00000"), r.stdout)
    }

    /// Integers for a floating-point input or weight are refused (PyTorch refuses a Long tensor into a
    /// convolution); whole-number floats as token ids are read with a warning.
    func testElementKindsAreChecked() throws {
        let s = try spec("input x 4\nfc: linear 3\n")
        _ = Support.run("init", s, "-o", path("w.safetensors"))
        try NPY.write(Tensor(shape: [1, 4], ints: [1, 2, 3, 4]), to: path("ints.npy"))
        var r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("ints.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(path("ints.npy")): input 'x' holds integers, but the network takes floating-point values there\n"
                                         + "note: convert the array to float32 (x.astype(numpy.float32))"), r.stderr)
        // An I64 tensor for a float weight.
        try SafeTensors.write([("fc.weight", Tensor(shape: [3, 4], ints: Array(repeating: 1, count: 12))),
                               ("fc.bias", Tensor(shape: [3], floats: [0, 0, 0]))], to: path("iw.safetensors"))
        try NPY.write(Tensor(shape: [1, 4], floats: [1, 2, 3, 4]), to: path("x.npy"))
        r = Support.run("run", s, "--weights", path("iw.safetensors"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(path("iw.safetensors")): tensor 'fc.weight' holds integers, but the spec's 'fc.weight' is floating point\n"), r.stderr)
        // Token ids saved as floats.
        let t = try spec("input ids [seq] tokens\nembed 10 4\n")
        _ = Support.run("init", t, "-o", path("e.safetensors"))
        try NPY.write(Tensor(shape: [1, 3], floats: [1, 2, 3]), to: path("fids.npy"))
        r = Support.run("run", t, "--weights", path("e.safetensors"), "--input", path("fids.npy"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "\(path("fids.npy")): warning: input 'ids' holds floating-point values; they are read as token ids (save them as int64)\n")
        try NPY.write(Tensor(shape: [1, 3], floats: [1, 2.5, 3]), to: path("half.npy"))
        r = Support.run("run", t, "--weights", path("e.safetensors"), "--input", path("half.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("error: \(path("half.npy")): input 'ids' holds token ids, but 2.5 is not a whole number"), r.stderr)
    }

    /// A size the input file fixes is bound before the spec is checked: `pos learned` on a symbolic
    /// `seq` needed --set even when the input gave seq.
    func testSizesFromInputsAreBoundBeforeChecking() throws {
        let s = try spec("input x [seq, 8]\npos: pos learned\nfc: linear 3\n")
        XCTAssertEqual(Support.run("init", s, "-o", path("w.safetensors"), "--set", "seq=4").status, 0)
        try NPY.write(Tensor(shape: [2, 4, 8], floats: Array(repeating: 0.25, count: 64)), to: path("x.npy"))
        var r = Support.run("run", s, "--weights", path("w.safetensors"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("output [2, 4, 3] in "), r.stdout)
        // A spec error that is not about sizes is still reported, once.
        let bad = try spec("input x [seq, 8]\npos learned\nlinear 0\n")
        r = Support.run("run", bad, "--weights", path("w.safetensors"), "--input", path("x.npy"))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.components(separatedBy: "error:").count - 1, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("'out' of 'linear' must be at least 1, got 0"), r.stderr)
    }

    func testUsage() {
        XCTAssertEqual(Support.run("run", "x.arch").status, 2)
        XCTAssertEqual(Support.run("init", "x.arch").status, 2)
        XCTAssertEqual(Support.run("init", "x.arch", "-o", "w", "--seed", "abc").status, 2)
    }
}
