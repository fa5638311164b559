import Foundation
import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchIO

/// Every spec family at reduced size (the numerics fixtures: ResNet, MobileNetV2, ViT, Swin, Mixer,
/// gMLP, aMLP, ConvMixer, AlexNet, U-Net, BERT, GPT-2, Llama, LSTM, MoE, DenseNet, ConvNeXt, DeiT,
/// highway and the op-coverage specs, dataflow's among them) and the specs of Fixtures/onnx (options
/// the fixtures leave out: overlapping unfold/fold, slices of a symbolic sequence) exported
/// with `archc export onnx`, checked by onnx.checker (full_check) and run in ONNX Runtime against
/// `archc run`: max |diff| <= 1e-4 x max(1, max |ref|), with the batch symbolic and run at twice the
/// batch, and sequence lengths symbolic and run at a shorter sequence too.
///
/// ONNX and ONNX Runtime come from a virtual environment under .build (made once, reused); with no
/// python3 or no network to install them the test says why and is skipped. ARCHC_ONNX_CROSSCHECK=off
/// skips it on purpose.
final class ONNXCrossCheckTests: XCTestCase {
    static let venv = Support.root.appendingPathComponent(".build/crosscheck-venv")
    static let checker = Support.root.appendingPathComponent("tools/onnx_crosscheck.py").path

    func testEveryFamilyMatchesArchcRunInONNXRuntime() throws {
        let python = try Self.environment()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-onnx-check-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = Support.fixtures.appendingPathComponent("numerics")
        var cases: [[String: Any]] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            cases += try Self.cases(fixture: root.appendingPathComponent(name), name: name, into: dir)
        }
        let specs = Support.fixtures.appendingPathComponent("onnx")
        for file in try FileManager.default.contentsOfDirectory(atPath: specs.path).sorted() where file.hasSuffix(".arch") {
            cases += try Self.cases(spec: specs.appendingPathComponent(file), into: dir)
        }
        cases.append(try Self.externalData(into: dir))
        XCTAssertGreaterThanOrEqual(cases.count, 44)
        let list = dir.appendingPathComponent("cases.json")
        try JSONSerialization.data(withJSONObject: ["cases": cases], options: [.prettyPrinted]).write(to: list)
        let r = try Self.execute(python, [Self.checker, list.path], timeout: 600)
        print(r.output)
        XCTAssertEqual(r.status, 0, r.output)
        for c in cases {
            let name = c["name"] as! String
            XCTAssertTrue(r.output.contains("\nok   \(name): ") || r.output.hasPrefix("ok   \(name): "), "\(name):\n\(r.output)")
        }
    }

    /// The fixture's cases: its model exported with every size symbolic, checked at the fixture's
    /// sizes (and twice the batch), and at a shorter sequence when it has one.
    static func cases(fixture: URL, name: String, into dir: URL) throws -> [[String: Any]] {
        let spec = fixture.appendingPathComponent("model.arch").path, weights = fixture.appendingPathComponent("weights.safetensors").path
        let declared = try XCTUnwrap(Pipeline.compile(path: spec, bindings: [:]).graph)
        var inputs: [String: Tensor] = [:], sizes: [String] = []
        for (k, (input, v)) in declared.inputs.enumerated() {
            inputs[input] = try NPY.read(path: fixture.appendingPathComponent(k == 0 ? "input.npy" : "\(input).npy").path)
            for d in declared.values[v].shape { for s in d.symbols where !sizes.contains(s) { sizes.append(s) } }
        }
        let model = dir.appendingPathComponent("\(name).onnx").path
        let export = Driver.run(["export", "onnx", spec, "--weights", weights, "-o", model] + sizes.flatMap { ["--dynamic", $0] })
        XCTAssertEqual(export.status, 0, "\(name): \(export.stderr)")
        var result = [try reference(name, spec: spec, weights: weights, model: model, inputs: inputs, dir: dir)]
        // The first symbolic size after the batch, at half its length: the model must not have kept the fixture's.
        let sequence = declared.inputs.compactMap { declared.values[$0.value].shape.dropFirst().firstIndex { !$0.isKnown } }.first
        if let axis = sequence, let n = inputs.values.first?.shape[axis], n >= 2 {
            let shorter = inputs.mapValues { declaredHasAxis($0, axis, n) ? prefix($0, axis: axis, count: n / 2) : $0 }
            result.append(try reference("\(name) (sequence \(n / 2))", spec: spec, weights: weights, model: model, inputs: shorter, dir: dir))
        }
        return result
    }

    /// A spec of Fixtures/onnx (ops and options the numerics fixtures do not reach), as a fixture:
    /// weights from `archc init`, an input of the declared shape (batch 1, each other symbol 8) with
    /// values from a fixed formula.
    static func cases(spec: URL, into dir: URL) throws -> [[String: Any]] {
        let name = spec.deletingPathExtension().lastPathComponent, fixture = dir.appendingPathComponent("fixture-\(name)")
        try FileManager.default.createDirectory(at: fixture, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: spec, to: fixture.appendingPathComponent("model.arch"))
        let initialised = Driver.run(["init", spec.path, "-o", fixture.appendingPathComponent("weights.safetensors").path])
        XCTAssertEqual(initialised.status, 0, "\(name): \(initialised.stderr)")
        let declared = try XCTUnwrap(Pipeline.compile(path: spec.path, bindings: [:]).graph)
        XCTAssertEqual(declared.inputs.count, 1, "\(name): one input")
        let dims = declared.values[declared.inputs[0].value].shape.enumerated().map { i, d in d.value ?? (i == 0 ? 1 : 8) }
        let count = dims.reduce(1, *)
        let values = (0..<count).map { Float(sin(Double($0) * 0.731 + 0.3) * 1.5 + cos(Double($0) * 0.117)) }
        try NPY.write(Tensor(shape: dims, floats: values), to: fixture.appendingPathComponent("input.npy").path)
        return try cases(fixture: fixture, name: "onnx_\(name)", into: dir)
    }

    /// ResNet with its weights in a file beside the model (ONNX's external data, as a model over 2 GB is written).
    static func externalData(into dir: URL) throws -> [String: Any] {
        let name = "resnet_small", fixture = Support.fixtures.appendingPathComponent("numerics/\(name)")
        let (spec, weights) = (fixture.appendingPathComponent("model.arch").path, fixture.appendingPathComponent("weights.safetensors").path)
        let model = dir.appendingPathComponent("external/\(name).onnx")
        try FileManager.default.createDirectory(at: model.deletingLastPathComponent(), withIntermediateDirectories: true)
        let export = Driver.run(["export", "onnx", spec, "--weights", weights, "-o", model.path, "--dynamic", "batch", "--external-data"])
        XCTAssertEqual(export.status, 0, export.stderr)
        return try reference("\(name) (external data)", spec: spec, weights: weights, model: model.path,
                             inputs: ["image": try NPY.read(path: fixture.appendingPathComponent("input.npy").path)], dir: dir)
    }

    static func declaredHasAxis(_ t: Tensor, _ axis: Int, _ n: Int) -> Bool { t.shape.count > axis && t.shape[axis] == n }

    /// A case: the inputs written, `archc run`'s output on them as the reference.
    static func reference(_ name: String, spec: String, weights: String, model: String, inputs: [String: Tensor], dir: URL) throws -> [String: Any] {
        let tag = name.filter { $0.isLetter || $0.isNumber || $0 == "_" }
        var files: [String: String] = [:], args: [String] = []
        for (input, t) in inputs {
            let path = dir.appendingPathComponent("\(tag).\(input).npy").path
            try NPY.write(t, to: path)
            files[input] = path
            args += ["--input", "\(input)=\(path)"]
        }
        let ref = dir.appendingPathComponent("\(tag).ref.npy").path
        let run = Driver.run(["run", spec, "--weights", weights, "--output", ref, "--threads", "2"] + args)
        XCTAssertEqual(run.status, 0, "\(name): \(run.stderr)")
        return ["name": name, "model": model, "inputs": files, "reference": ref, "repeat": 2]
    }

    /// The first `count` entries of a tensor along `axis`.
    static func prefix(_ t: Tensor, axis: Int, count: Int) -> Tensor {
        let outer = t.shape[..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *), n = t.shape[axis]
        var shape = t.shape
        shape[axis] = count
        func cut<T>(_ v: [T]) -> [T] { (0..<outer).flatMap { o in v[(o * n * inner)..<((o * n + count) * inner)] } }
        switch t.storage {
        case .float(let f): return Tensor(shape: shape, floats: cut(f))
        case .int(let i): return Tensor(shape: shape, ints: cut(i))
        }
    }

    // MARK: the environment

    /// The virtual environment's python, with onnx, onnxruntime and numpy: reused if it has them, else
    /// made and installed (pip with its own timeouts, the whole under ten minutes). Throws XCTSkip saying why not.
    static func environment() throws -> String {
        func skip(_ reason: String) -> XCTSkip {
            print("ONNX cross-check skipped: \(reason)")
            return XCTSkip("ONNX cross-check skipped: \(reason)")
        }
        if ProcessInfo.processInfo.environment["ARCHC_ONNX_CROSSCHECK"] == "off" { throw skip("ARCHC_ONNX_CROSSCHECK=off") }
        let python = venv.appendingPathComponent("bin/python").path
        let probe = ["-c", "import onnx, onnxruntime, numpy"]
        if FileManager.default.isExecutableFile(atPath: python), (try? execute(python, probe, timeout: 120))?.status == 0 { return python }
        guard let made = try? execute("/usr/bin/env", ["python3", "-m", "venv", "--clear", venv.path], timeout: 300) else {
            throw skip("python3 could not be started")
        }
        guard made.status == 0 else { throw skip("python3 -m venv failed: \(lastLine(made.output))") }
        let pip = try execute(python, ["-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--timeout", "15", "--retries", "1",
                                       "onnx", "onnxruntime", "numpy"], timeout: 900)
        guard pip.status == 0 else { throw skip("pip could not install onnx and onnxruntime: \(lastLine(pip.output))") }
        let check = try execute(python, probe, timeout: 120)
        guard check.status == 0 else { throw skip("onnx or onnxruntime does not import: \(lastLine(check.output))") }
        return python
    }

    static func lastLine(_ s: String) -> String {
        s.split(separator: "\n").last.map(String.init) ?? "no output"
    }

    /// Runs a program with its output (standard output and error) in a file, killed past `timeout` seconds.
    static func execute(_ program: String, _ arguments: [String], timeout: TimeInterval) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("archc-onnx-\(getpid())-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
            return (-1, "timed out after \(Int(timeout)) s")
        }
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
