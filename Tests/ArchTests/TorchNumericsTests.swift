import Foundation
import XCTest
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchIO
@testable import ArchRuntime
@testable import ArchCodegen

/// The emitted modules run in PyTorch (tools/check_emit_torch.py) where a Python with torch,
/// safetensors and numpy is found: ARCHC_PYTHON, else python3 on the PATH; skipped with a message
/// where there is none. Every numerics fixture's module loads the fixture's weights with strict=True and
/// matches `archc run` on them within 1e-4 x max(1, max|ref|); every spec's module constructs (on the
/// meta device) with the state_dict `archc params --names` lists, in its order.
final class TorchNumericsTests: XCTestCase {
    struct Case: Encodable {
        var name: String, module: String, names: [[AnyCodable]]
        var weights: String? = nil, inputs: [String]? = nil, reference: String? = nil
    }

    enum AnyCodable: Encodable {
        case s(String), shape([Int])
        func encode(to e: Encoder) throws {
            var c = e.singleValueContainer()
            switch self { case .s(let s): try c.encode(s); case .shape(let v): try c.encode(v) }
        }
    }

    lazy var dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("archc-torch-\(getpid())")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// A case for a compiled graph: its module, names and (with inputs) archc's output on the weights.
    func makeCase(_ name: String, _ g: Graph, weights: [(name: String, tensor: Tensor)]?, inputs: [String: Tensor]) throws -> Case {
        let module = dir.appendingPathComponent("\(name).py").path
        try TorchEmitter.emit(g).write(toFile: module, atomically: true, encoding: .utf8)
        let names = g.stateDictOrder().map { [AnyCodable.s(g.params[$0].name), .shape(g.params[$0].shape)] }
        var c = Case(name: name, module: module, names: names)
        guard let weights else { return c }
        let file = dir.appendingPathComponent("\(name).safetensors").path
        try SafeTensors.write(weights, to: file)
        let bound = WeightStore.bind(g, tensors: weights, file: file)
        XCTAssertEqual(bound.errors.map(\.description), [], name)
        let y = try Interpreter(graph: g, weights: XCTUnwrap(bound.store)).run(inputs)
        c.weights = file
        c.reference = dir.appendingPathComponent("\(name).out.npy").path
        try NPY.write(y, to: c.reference!)
        c.inputs = try g.inputs.map { input in
            let p = dir.appendingPathComponent("\(name).in.\(input.value).npy").path
            try NPY.write(XCTUnwrap(inputs[input.name]), to: p)
            return p
        }
        return c
    }

    func fixtureCase(_ name: String) throws -> Case {
        let d = Support.fixtures.appendingPathComponent("numerics/\(name)")
        let spec = d.appendingPathComponent("model.arch").path
        let declared = try XCTUnwrap(Pipeline.compile(path: spec, bindings: [:]).graph)
        var inputs = [declared.inputs[0].name: try NPY.read(path: d.appendingPathComponent("input.npy").path)]
        for (n, _) in declared.inputs.dropFirst() { inputs[n] = try NPY.read(path: d.appendingPathComponent("\(n).npy").path) }
        let g = try XCTUnwrap(Pipeline.compile(path: spec, bindings: try InputBinding.bindings(for: declared, inputs: inputs)).graph)
        return try makeCase(name, g, weights: try SafeTensors.read(path: d.appendingPathComponent("weights.safetensors").path), inputs: inputs)
    }

    /// Runs the cases in PyTorch; each must pass.
    func check(_ cases: [Case], file: StaticString = #filePath, line: UInt = #line) throws {
        let python = try TorchPython.find()
        let list = dir.appendingPathComponent("cases-\(cases.count)-\(cases.first?.name ?? "").json")
        try JSONEncoder().encode(cases).write(to: list)
        let out = try TorchPython.run(python, [Support.root.appendingPathComponent("tools/check_emit_torch.py").path, list.path])
        let lines = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(lines.count, cases.count, out, file: file, line: line)
        for r in lines {
            XCTAssertEqual(r["ok"] as? Bool, true, "\(r["name"] ?? ""): \(r["error"] ?? "max|diff| \(r["diff"] ?? "") at scale \(r["scale"] ?? "")") \(r["trace"] ?? "")", file: file, line: line)
        }
    }

    func testEveryFixtureMatchesArchcRun() throws {
        _ = try TorchPython.find()
        let names = try FileManager.default.contentsOfDirectory(atPath: Support.fixtures.appendingPathComponent("numerics").path).sorted()
        try check(names.map(fixtureCase))
    }

    func testEverySpecHasArchcsStateDict() throws {
        _ = try TorchPython.find()
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.specs.path).filter { $0.hasSuffix(".arch") }.sorted()
        try check(files.map { f in try makeCase(String(f.dropLast(5)), XCTUnwrap(Support.compileSpec(f, bindings: ["seq": 128]).graph), weights: nil, inputs: [:]) })
    }

    /// Names of the spec never collide with the module's own: inputs named like the emitted variables
    /// (v0, v1, x), Python keywords and the file's names, labels that are nn.Module attributes.
    func testSpecNamesNeverCollide() throws {
        _ = try TorchPython.find()
        let specs = [
            ("swapped_inputs", "model m\ninput v1 8\ninput v0 8\nadd v0\n", ["v1": 1.0, "v0": 10.0] as [String: Float]),
            ("running_name", "model m\ninput x 8\ninput x_ 8\na: linear 8\nb: linear 8\nadd x_\nadd a\n", ["x": 1, "x_": 2]),
            ("keywords", "model m\ninput class 4\ninput lambda 4\ninput None 4\ninput self 4\ninput F 4\ninput torch 4\n"
                + "forward: linear 4\nadd lambda\nadd None\neval: linear 4\nmul self\n_modules: seq { __init__: linear 4 }\nadd F\nsub torch\n",
             ["class": 1, "lambda": 2, "None": 3, "self": 4, "F": 5, "torch": 6]),
            // Blocks become classes: named like the file's own classes, Python keywords, with labels
            // named like nn.Module's attributes, one inside another, reading a tensor from outside.
            ("blocks", "model m\ninput x 8\ninput Model 8\nblock Model(lambda, lambda_ = 8, eval = 2) {\n  forward: linear lambda\n  relu\n"
                + "  next: linear lambda_\n  add Model\n}\nblock attention(n) {\n  self: linear n\n  residual { _modules: Model 8 }\n}\n"
                + "block class(n, self = 1) {\n  layer: linear n * self\n  layer_: linear n\n}\nh: Model 8 x2\na: attention 8 x2\nc: class 8\n",
             ["x": 1, "Model": 2]),
        ]
        var cases: [Case] = []
        for (name, text, values) in specs {
            let g = try XCTUnwrap(Support.compile(text, bindings: ["batch": 2]).graph, Support.rendered(Support.compile(text)))
            var inputs: [String: Tensor] = [:]
            for (n, v) in g.inputs { inputs[n] = Tensor(shape: [2] + g.values[v].shape.dropFirst().map { $0.value! }, floats: [Float](repeating: values[n]!, count: 16).prefix(2 * (g.values[v].shape.last?.value ?? 1)).map { $0 }) }
            cases.append(try makeCase(name, g, weights: Initializer.tensors(for: g, seed: 5), inputs: inputs))
        }
        try check(cases)
        // PyTorch keeps each module's train/eval flag in `training`: no layer can have that name there.
        let training = try XCTUnwrap(Support.compile("model m\ninput x 4\ntraining: linear 4\n").graph)
        XCTAssertThrowsError(try TorchEmitter.emit(training)) {
            XCTAssertEqual("\($0)", "emit torch cannot name a layer 'training' (at 'training'): PyTorch keeps each module's train/eval flag in that attribute; give the layer another label")
        }
        // archc computes 11 where the old emitter swapped the inputs and gave 2.
        let g = try XCTUnwrap(Support.compile(specs[0].1, bindings: ["batch": 1]).graph)
        let y = try Interpreter(graph: g, weights: XCTUnwrap(WeightStore.bind(g, tensors: [], file: "-").store))
            .run(["v1": Tensor(shape: [1, 8], floats: .init(repeating: 1, count: 8)), "v0": Tensor(shape: [1, 8], floats: .init(repeating: 10, count: 8))])
        XCTAssertEqual(y.floats, [Float](repeating: 11, count: 8))
    }
}

/// A Python that imports torch, safetensors and numpy.
enum TorchPython {
    static func find() throws -> String {
        let env = ProcessInfo.processInfo.environment
        for candidate in [env["ARCHC_PYTHON"], "python3"].compactMap({ $0 }) {
            if (try? run(candidate, ["-c", "import torch, safetensors, numpy"])) != nil { return candidate }
        }
        throw XCTSkip("no Python with torch, safetensors and numpy: set ARCHC_PYTHON=/path/to/python to run the emitted PyTorch modules")
    }

    /// Runs Python (through /usr/bin/env, at low priority) and returns its standard output; throws when it fails.
    static func run(_ python: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["nice", "-n", "19", python] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "python", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: String(decoding: errors, as: UTF8.self)])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
