import Foundation
import XCTest
@testable import ArchIO
@testable import ArchRuntime
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchSyntax

/// Fuzzing safetensors files: small valid files made here (every dtype, metadata, empty tensors),
/// mutated field by field (lying offsets, overlaps, gaps, dtypes, shapes, duplicate names and
/// fields, odd names, metadata, unknown and deeply nested fields, header lengths) and byte by byte,
/// then parsed, bound to a small network and, when they bind, run. Each must end in tensors or an
/// IOError naming the file, never a trap, a hang or another kind of error.
extension FuzzTests {
    /// One header entry, its numbers kept as text so that any JSON can stand in for them.
    struct SafeTensorsEntry {
        /// The name as a JSON string literal, quotes and escapes included.
        var name: String
        var fields: [(key: String, value: String)]
    }

    /// A file before it is rendered: entries, metadata, data, and a lie about the header length.
    struct SafeTensorsFile {
        var entries: [SafeTensorsEntry]
        var metadata: String?
        var data: [UInt8]
        var lengthDelta = 0
        var padding = 0

        func bytes() -> [UInt8] {
            var members = entries.map { e in
                e.name + ":{" + e.fields.map { JSONText.string($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
            }
            if let metadata { members.insert("\"__metadata__\":" + metadata, at: min(1, members.count)) }
            let header = Array(("{" + members.joined(separator: ",") + "}").utf8) + Array(repeating: 32, count: padding)
            let length = UInt64(truncatingIfNeeded: header.count + lengthDelta)
            return withUnsafeBytes(of: length.littleEndian, Array.init) + header + data
        }
    }

    /// The network the fuzzed weights are bound to and run on.
    static func weightNetwork(_ bindings: [String: Int]) -> Graph? {
        Pipeline.compile(SourceFile(path: "net.arch", text: "input x 4\nfc: linear 3\nnorm: layernorm\n"), bindings: bindings).graph
    }
    static let weightNetwork: Graph? = weightNetwork(["batch": 1])

    /// A valid file: the network's tensors, and others of every dtype, in a random order.
    static func seedSafeTensors(_ rng: inout Random) -> SafeTensorsFile {
        var specs: [(String, String, [Int], Int)] = [("fc.weight", "F32", [3, 4], 4), ("fc.bias", "F32", [3], 4), ("norm.weight", "F32", [3], 4),
                                                     ("norm.bias", "F32", [3], 4)]
        let others: [(String, String, [Int], Int)] = [("bn.num_batches_tracked", "I64", [], 8), ("half", "F16", [2], 2), ("brain", "BF16", [2], 2),
                                                      ("double", "F64", [1], 8), ("ids", "I32", [2], 4), ("empty", "F32", [0], 4), ("zero", "F32", [2, 0, 3], 4)]
        for o in others where rng.chance(40) { specs.insert(o, at: rng.below(specs.count + 1)) }
        var file = SafeTensorsFile(entries: [], metadata: rng.chance(50) ? #"{"format":"pt"}"# : nil, data: [])
        for (name, dtype, shape, size) in specs {
            let bytes = shape.reduce(1, *) * size
            let start = file.data.count
            for i in 0..<bytes { file.data.append(UInt8(truncatingIfNeeded: (i % size == size - 2) ? 0x3F : rng.below(256))) }
            file.entries.append(SafeTensorsEntry(name: JSONText.string(name), fields: [("dtype", "\"\(dtype)\""), ("shape", "[" + shape.map(String.init).joined(separator: ",") + "]"),
                                                                      ("data_offsets", "[\(start),\(start + bytes)]")]))
        }
        return file
    }

    static let jsonNumbers = ["-1", "0", "1", "2", "3", "4", "12", "48", "4294967296", "9223372036854775807", "9223372036854775808",
                              "99999999999999999999", "1.5", "1e2", "-0", "\"2\"", "null", "[]", "true", "01"]
    static let dtypes = ["\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I64\"", "\"I32\"", "\"U8\"", "\"BOOL\"", "\"F8_E4M3\"", "\"C64\"", "\"\"",
                         "\"f32\"", "5", "null", "[\"F32\"]", "{}"]
    static let oddNames = ["", "__metadata__", "fc.weight", "a\\u0000b", "\\u001b[31m", "\\ud800", "\\ud83d\\ude00", "caf\\u00e9",
                           String(repeating: "n", count: 300), "fc.weight ", "\\\"", "\\/"]

    /// One field-level mutation.
    static func mutateSafeTensors(_ f: SafeTensorsFile, _ rng: inout Random) -> SafeTensorsFile {
        var f = f
        guard !f.entries.isEmpty else { f.entries.append(SafeTensorsEntry(name: "\"w\"", fields: [("dtype", "\"F32\"")])); return f }
        let e = rng.below(f.entries.count)
        func field(_ key: String) -> Int? { f.entries[e].fields.firstIndex { $0.key == key } }
        switch rng.below(14) {
        case 0: if let k = field("dtype") { f.entries[e].fields[k].value = rng.pick(dtypes) }
        case 1, 2:  // a shape: an edge number, one more or fewer, or not a list
            if let k = field("shape") {
                var parts = f.entries[e].fields[k].value.dropFirst().dropLast().split(separator: ",").map(String.init)
                switch rng.below(4) {
                case 0 where !parts.isEmpty: parts[rng.below(parts.count)] = rng.pick(jsonNumbers)
                case 1: parts.insert(rng.pick(jsonNumbers), at: rng.below(parts.count + 1))
                case 2 where !parts.isEmpty: parts.remove(at: rng.below(parts.count))
                default: f.entries[e].fields[k].value = rng.pick(jsonNumbers); return f
                }
                f.entries[e].fields[k].value = "[" + parts.joined(separator: ",") + "]"
            }
        case 3, 4, 5:  // lying offsets: an edge number, shifted, swapped, another tensor's (an overlap), three of them
            if let k = field("data_offsets") {
                let parts = f.entries[e].fields[k].value.dropFirst().dropLast().split(separator: ",").map(String.init)
                let (a, b) = (Int(parts.first ?? "0") ?? 0, Int(parts.last ?? "0") ?? 0)
                let d = rng.pick([1, 2, 4, 8, -1, -4])
                let other = f.entries[rng.below(f.entries.count)].fields.first { $0.key == "data_offsets" }?.value
                // Wrapping arithmetic: an earlier mutation may have left Int.max here.
                f.entries[e].fields[k].value = rng.pick(["[\(a &+ d),\(b &+ d)]", "[\(a),\(b &+ d)]", "[\(b),\(a)]", "[\(a),\(a)]", other ?? "[0,0]",
                                                         "[\(rng.pick(jsonNumbers)),\(b)]", "[\(a),\(rng.pick(jsonNumbers))]", "[\(a),\(b),\(b)]", "[\(a)]", "{}"])
            }
        case 6: f.entries.insert(f.entries[e], at: rng.below(f.entries.count + 1))  // a name twice
        case 7:  // a field twice, missing, or unknown (perhaps deeply nested)
            let k = rng.below(f.entries[e].fields.count + 1)
            switch rng.below(3) {
            case 0 where k < f.entries[e].fields.count: f.entries[e].fields.insert(f.entries[e].fields[k], at: k)
            case 1 where k < f.entries[e].fields.count: f.entries[e].fields.remove(at: k)
            default:
                let depth = rng.pick([1, 3, 63, 64, 65, 200])
                f.entries[e].fields.insert(("extra", String(repeating: "[", count: depth) + "{\"a\":null}" + String(repeating: "]", count: depth)), at: k)
            }
        case 8: f.entries[e].name = "\"" + rng.pick(oddNames) + "\""
        case 9: f.metadata = rng.pick([nil, "null", "{}", #"{"k":1}"#, #"{"k":"v","k":"w"}"#, #"{"k":{"n":"v"}}"#, "[]", #""s""#])
        case 10:  // the data cut short or grown
            if rng.chance(50) { f.data.removeLast(min(f.data.count, rng.pick([1, 2, 4, 8, 64]))) } else { f.data += Array(repeating: 0, count: rng.pick([1, 4, 8])) }
        case 11: f.lengthDelta = rng.pick([-1, 1, -8, 8, 1 << 20, -(1 << 20), Int(Int32.max)])
        case 12: f.entries.remove(at: e)
        default: f.padding = rng.pick([1, 7, 8, 4096])
        }
        return f
    }

    /// A byte-level mutation, mostly in the header.
    static func mutateBytes(_ b: [UInt8], _ rng: inout Random, headerEnd: Int) -> [UInt8] {
        var b = b
        guard !b.isEmpty else { return [UInt8(truncatingIfNeeded: rng.next())] }
        let k = rng.chance(80) ? rng.below(max(1, min(b.count, headerEnd))) : rng.below(b.count)
        switch rng.below(5) {
        case 0: b[k] ^= UInt8(1 << rng.below(8))
        case 1: b[k] = rng.pick(Array("{}[]:,\"\\ 0-.e".utf8) + [0, 0x1B, 0x80, 0xFF, 0xC3])
        case 2: b.remove(at: k)
        case 3: b.insert(rng.pick(Array("{}[]:,\" 9".utf8) + [0xFF]), at: k)
        default: b = Array(b.prefix(rng.below(b.count)))
        }
        return b
    }

    /// Parses, binds and (when the weights bind) runs one file.
    static func checkSafeTensors(_ bytes: [UInt8]) -> (failure: String?, outcome: String) {
        let tensors: [(name: String, tensor: Tensor)]
        do { tensors = try SafeTensors.parse(Data(bytes), path: "fuzz.safetensors") } catch let e as IOError {
            return e.description.hasPrefix("fuzz.safetensors: error: ") ? (nil, "refused") : ("a malformed error: \(e)", "refused")
        } catch {
            return ("not an IOError: \(error)", "refused")
        }
        if Set(tensors.map(\.name)).count != tensors.count { return ("a name twice among the tensors", "read") }
        for (name, t) in tensors {
            let stored: Int = { switch t.storage { case .float(let f): return f.count; case .int(let i): return i.count } }()
            if stored != t.count { return ("tensor '\(name)' holds \(stored) values for shape \(t.shape)", "read") }
        }
        guard let g = weightNetwork else { return ("the network does not compile", "read") }
        let bound = WeightStore.bind(g, tensors: tensors, file: "fuzz.safetensors")
        guard let store = bound.store else { return (nil, "read, not bound") }
        do {
            let y = try Interpreter(graph: g, weights: store).run(["x": Tensor(shape: [1, 4], floats: [1, -2, 3, -4])])
            return y.shape == [1, 3] ? (nil, "run") : ("output shape \(y.shape)", "run")
        } catch {
            return (nil, "bound, not run")
        }
    }

    func testMutatedSafeTensorsEndInTensorsOrErrors() {
        let start = Date()
        let watch = Self.campaign("safetensors", count: Self.caseCount(default: 3000), salt: 0x5AFE_7E45, make: { _, rng in
            var file = Self.seedSafeTensors(&rng)
            for _ in 0..<rng.pick([0, 1, 1, 1, 2, 2, 3]) { file = Self.mutateSafeTensors(file, &rng) }
            var bytes = file.bytes()
            let headerEnd = bytes.count - file.data.count
            if rng.chance(30) { for _ in 0...rng.below(2) { bytes = Self.mutateBytes(bytes, &rng, headerEnd: headerEnd) } }
            return (bytes, Self.show(bytes))
        }, check: { bytes, _ in Self.checkSafeTensors(bytes) })
        Self.report("safetensors", watch, seconds: Date().timeIntervalSince(start))
        let tally = watch.with { $0.tally }
        XCTAssertGreaterThan(tally["run", default: 0], 0, "some files should still bind and run")
        XCTAssertGreaterThan(tally["refused", default: 0], 0, "most mutations should be refused")
    }
}
