import Foundation
import XCTest
@testable import ArchIO
@testable import ArchRuntime
@testable import ArchSemantics
import ArchCore
@testable import ArchDriver

/// Fuzzing .npy files: small valid files made here (float32/64, int32/64, shapes from scalars to
/// rank 4, versions 1 to 3), mutated field by field (dtypes, fortran_order, shapes, keys missing,
/// unknown or given twice, quoting, header lengths, versions, magic, data cut or grown) and byte by
/// byte, then read, checked as a network input would be and, when they fit, run. Each must end in a
/// tensor or an IOError naming the file.
extension FuzzTests {
    /// A .npy file before it is rendered.
    struct NumPyFile {
        var version: UInt8 = 1
        var magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        var fields: [(key: String, value: String)]
        var data: [UInt8]
        var lengthDelta = 0

        func bytes() -> [UInt8] {
            var header = "{" + fields.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ", }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            let n = header.utf8.count + lengthDelta
            let length: [UInt8] = version == 1 ? [UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8)]
                : (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) }
            return magic + [version, 0] + length + Array(header.utf8) + data
        }
    }

    static func seedNumPy(_ rng: inout Random) -> NumPyFile {
        let (descr, size) = rng.pick([("<f4", 4), ("<f8", 8), ("<i4", 4), ("<i8", 8)])
        let shape = rng.pick([[], [4], [1, 4], [2, 4], [1, 3], [1, 2, 6, 6], [0, 4], [3, 1, 1]])
        let tuple = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let count = shape.reduce(1, *)
        var data: [UInt8] = []
        for i in 0..<(count * size) { data.append(descr.hasPrefix("<i") ? (i % size == 0 ? UInt8(rng.below(11)) : 0) : UInt8(truncatingIfNeeded: rng.next())) }
        return NumPyFile(version: rng.pick([1, 1, 2, 3]), fields: [("'descr'", "'\(descr)'"), ("'fortran_order'", "False"), ("'shape'", tuple)], data: data)
    }

    static let descrs = ["'<f4'", "'<f8'", "'<i4'", "'<i8'", "'>f4'", "'|u1'", "'<f2'", "'|O'", "'<c8'", "'|b1'", "[('a', '<f4')]", "'<f4",
                         "\"<f4\"", "<f4", "4", "''", "'<f4\\x00'", "'\u{1B}[31m'"]
    static let orders = ["True", "False", "Maybe", "1", "0", "'False'", "None", "Falsey", "", "False False"]
    static let tuples = ["()", "(0,)", "(4,)", "(1, 4)", "(2, 4)", "(4)", "(-1,)", "(99999999999999999999,)", "(2, 2,)", "(2L, 2L)", "[2, 2]",
                         "(1.5,)", "(2, -2)", "(9223372036854775807, 2)", "(4294967296, 4294967296)", "(1,, 4)", "(", "(0, 99999999999)"]

    static func mutateNumPy(_ f: NumPyFile, _ rng: inout Random) -> NumPyFile {
        var f = f
        let k = rng.below(max(1, f.fields.count))
        switch rng.below(11) {
        case 0: if let i = f.fields.firstIndex(where: { $0.key == "'descr'" }) { f.fields[i].value = rng.pick(descrs) }
        case 1: if let i = f.fields.firstIndex(where: { $0.key == "'fortran_order'" }) { f.fields[i].value = rng.pick(orders) }
        case 2, 3: if let i = f.fields.firstIndex(where: { $0.key == "'shape'" }) { f.fields[i].value = rng.pick(tuples) }
        case 4 where !f.fields.isEmpty: f.fields.insert((f.fields[k].key, rng.pick(descrs + orders + tuples)), at: rng.below(f.fields.count + 1))
        case 5 where !f.fields.isEmpty: f.fields.remove(at: k)
        case 6: f.fields.insert((rng.pick(["'extra'", "'descr '", "\"shape\"", "descr", "'\u{0}'"]), rng.pick(["1", "'x'", "()"])), at: rng.below(f.fields.count + 1))
        case 7: f.lengthDelta = rng.pick([-1, 1, -10, 64, 70000, -1000, 1 << 21])
        case 8: f.version = rng.pick([0, 1, 2, 3, 4, 255])
        case 9:
            if rng.chance(50) { f.data.removeLast(min(f.data.count, rng.pick([1, 4, 8]))) } else { f.data += Array(repeating: 7, count: rng.pick([1, 4, 8])) }
        default: f.magic[rng.below(f.magic.count)] ^= 0x20
        }
        return f
    }

    /// Reads one file; a tensor must hold its shape's values and pass (or fail cleanly) the checks
    /// `run` makes of an input; a [1, 4] or [2, 4] float tensor also runs through a small network.
    static func checkNumPy(_ bytes: [UInt8]) -> (failure: String?, outcome: String) {
        let t: Tensor
        do { t = try NPY.parse(Data(bytes), path: "fuzz.npy") } catch let e as IOError {
            return e.description.hasPrefix("fuzz.npy: error: ") ? (nil, "refused") : ("a malformed error: \(e)", "refused")
        } catch {
            return ("not an IOError: \(error)", "refused")
        }
        let stored: Int = { switch t.storage { case .float(let f): return f.count; case .int(let i): return i.count } }()
        if stored != t.count { return ("holds \(stored) values for shape \(t.shape)", "read") }
        var warnings = ""
        for tokens in [false, true] {
            do { try Driver.checkKind(t, of: "x", tokens: tokens, path: "fuzz.npy", warnings: &warnings) } catch is ToolError {} catch {
                return ("the kind check threw \(error)", "read")
            }
        }
        guard let symbolic = weightNetwork([:]), !t.isInteger, t.shape.count == 2, t.shape[1] == 4, t.shape[0] >= 1 else { return (nil, "read") }
        do {
            let bindings = try InputBinding.bindings(for: symbolic, inputs: ["x": t])
            guard bindings["batch"] == t.shape[0], let g = weightNetwork(bindings) else { return ("batch bound to \(String(describing: bindings["batch"]))", "read") }
            let bound = WeightStore.bind(g, tensors: Initializer.tensors(for: g, seed: 1), file: "init")
            guard let store = bound.store else { return ("initialised weights do not bind", "read") }
            let y = try Interpreter(graph: g, weights: store).run(["x": t])
            return y.shape == [t.shape[0], 3] ? (nil, "run") : ("output shape \(y.shape)", "run")
        } catch {
            return (nil, "read, not run")
        }
    }

    func testMutatedNumPyFilesEndInTensorsOrErrors() {
        let start = Date()
        let watch = Self.campaign(".npy", count: Self.caseCount(default: 3000), salt: 0x0000_3A4D_59, make: { _, rng in
            var file = Self.seedNumPy(&rng)
            for _ in 0..<rng.pick([0, 1, 1, 1, 2, 2, 3]) { file = Self.mutateNumPy(file, &rng) }
            var bytes = file.bytes()
            if rng.chance(30) { for _ in 0...rng.below(2) { bytes = Self.mutateBytes(bytes, &rng, headerEnd: bytes.count - file.data.count) } }
            return (bytes, Self.show(bytes))
        }, check: { bytes, _ in Self.checkNumPy(bytes) })
        Self.report(".npy", watch, seconds: Date().timeIntervalSince(start))
        let tally = watch.with { $0.tally }
        XCTAssertGreaterThan(tally["run", default: 0], 0, "some files should still run")
        XCTAssertGreaterThan(tally["refused", default: 0], 0, "most mutations should be refused")
    }
}
