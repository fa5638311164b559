import Foundation
import XCTest
@testable import ArchIO

/// safetensors and .npy, read from files PyTorch and NumPy wrote (tools/make_io_fixtures.py),
/// written back, and refused with a clear error when malformed.
final class TensorFileTests: XCTestCase {
    let io = Support.fixtures.appendingPathComponent("io")
    func path(_ name: String) -> String { io.appendingPathComponent(name).path }
    let expected: [Float] = (0..<12).map { Float($0) * 0.5 - 1 }

    func tmp(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-io-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    func message(_ f: () throws -> Any) -> String {
        do { _ = try f(); return "no error" } catch { return "\(error)" }
    }

    func testNumPyFiles() throws {
        let f = try NPY.read(path: path("f32.npy"))
        XCTAssertEqual(f.shape, [3, 4])
        XCTAssertEqual(f.floats, expected)
        XCTAssertEqual(try NPY.read(path: path("f64.npy")).floats, expected)
        XCTAssertEqual(try NPY.read(path: path("i64.npy")).storage, .int([101, 2023, 102]))
        XCTAssertEqual(try NPY.read(path: path("i32.npy")).storage, .int([7, -3]))
        XCTAssertEqual(try NPY.read(path: path("scalar.npy")).shape, [])
    }

    func testNumPyRefusals() {
        XCTAssertTrue(message { try NPY.read(path: self.path("fortran.npy")) }.contains("Fortran order"))
        XCTAssertTrue(message { try NPY.read(path: self.path("bigendian.npy")) }.contains("big-endian (>f4)"))
        XCTAssertTrue(message { try NPY.read(path: self.path("object.npy")) }.contains("Python objects"))
        XCTAssertTrue(message { try NPY.read(path: self.path("uint8.npy")) }.contains("dtype |u1 is not supported"))
        XCTAssertTrue(message { try NPY.read(path: self.path("missing.npy")) }.hasSuffix("cannot read the file (no such file)"))
        let good = try! Data(contentsOf: io.appendingPathComponent("f32.npy"))
        XCTAssertTrue(message { try NPY.parse(good.prefix(good.count - 5), path: "t.npy") }.contains("truncated: shape [3, 4] needs 48 bytes"))
        XCTAssertTrue(message { try NPY.parse(Data("hello world".utf8), path: "t.npy") }.contains("not a .npy file"))
    }

    /// A .npy file with the given header text and `data` bytes after it (version 1.0).
    func npy(_ header: String, data: [UInt8] = []) -> Data {
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    /// The header dict as numpy's reader wants it: each key once, no other key, values of their kind.
    func testNumPyHeaderDict() throws {
        func err(_ h: String) -> String { message { try NPY.parse(self.npy(h, data: Array(repeating: 0, count: 16)), path: "x.npy") } }
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n"), "no error")
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (4,)}"), "x.npy: error: the header gives 'shape' twice")
        XCTAssertEqual(err("{'descr': '<f4', 'descr': '<i8', 'fortran_order': False, 'shape': (2,)}"), "x.npy: error: the header gives 'descr' twice")
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (4,)}"), "x.npy: error: 'fortran_order' is Maybe, not True or False")
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (4,)}"), "x.npy: error: 'fortran_order' is Falsey, not True or False")
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': False, 'shape': (4)}"), "x.npy: error: 'shape' is (4), not a tuple of non-negative integers")
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}"), "x.npy: error: 'shape' is (-4,), not a tuple of non-negative integers")
        XCTAssertEqual(err("{'descr': 4, 'fortran_order': False, 'shape': (4,)}"), "x.npy: error: 'descr' is 4, not a dtype string such as '<f4'")
        XCTAssertEqual(err("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,)}"), "x.npy: error: the array has a structured dtype; save a plain numeric array")
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}"),
                       "x.npy: error: the header has an unknown key 'extra' (numpy writes 'descr', 'fortran_order' and 'shape')")
        XCTAssertEqual(err("{'descr': '<f4', 'shape': (4,)}"), "x.npy: error: the header has no 'fortran_order'")
        XCTAssertEqual(err("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)} junk"), "x.npy: error: the header has bytes after its dict")
        XCTAssertTrue(err("['descr', '<f4']").hasPrefix("x.npy: error: the header is not a Python dict"))
        XCTAssertEqual(try NPY.parse(npy("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L, 2L)}", data: Array(repeating: 0, count: 16)), path: "x").shape, [2, 2])
        XCTAssertEqual(try NPY.parse(npy("{'descr': '<f8', 'fortran_order': False, 'shape': ()}", data: Array(repeating: 0, count: 8)), path: "x").shape, [])
    }

    func testNumPyRoundTrip() throws {
        let t = Tensor(shape: [2, 3], floats: [1, -2, 3.5, 0, .infinity, 6])
        try NPY.write(t, to: tmp("rt.npy"))
        XCTAssertEqual(try NPY.read(path: tmp("rt.npy")), t)
        let ids = Tensor(shape: [4], ints: [1, 2, 3, Int64.max])
        try NPY.write(ids, to: tmp("ids.npy"))
        XCTAssertEqual(try NPY.read(path: tmp("ids.npy")), ids)
    }

    func testSafeTensorsFromPyTorch() throws {
        let entries = try SafeTensors.read(path: path("mixed.safetensors"))
        let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.tensor) })
        let quarter: [Float] = (0..<6).map { Float($0) * 0.25 }
        XCTAssertEqual(byName["conv.weight"], Tensor(shape: [2, 3], floats: quarter))
        XCTAssertEqual(byName["half"]?.floats, quarter)   // exact in float16 and bfloat16
        XCTAssertEqual(byName["brain"]?.floats, quarter)
        XCTAssertEqual(byName["bn.num_batches_tracked"], Tensor(shape: [], ints: [5]))
        XCTAssertEqual(byName["ids"]?.storage, .int([1, -2, 3]))
    }

    func testSafeTensorsRoundTripIsAtomic() throws {
        let ts: [(name: String, tensor: Tensor)] = [("a.weight", Tensor(shape: [2, 2], floats: [1, 2, 3, 4])), ("b", Tensor(shape: [], ints: [9]))]
        let p = tmp("w.safetensors")
        try SafeTensors.write(ts, to: p)
        let back = try SafeTensors.read(path: p)
        XCTAssertEqual(back.map(\.name), ["a.weight", "b"])
        XCTAssertEqual(back.map(\.tensor), ts.map(\.tensor))
        // A write that cannot happen leaves the old file untouched.
        XCTAssertThrowsError(try SafeTensors.write(ts, to: "/nonexistent-dir/w.safetensors"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (p as NSString).deletingLastPathComponent).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// A header built by hand: 8-byte length, then the JSON, then `data`.
    func file(_ json: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> Data {
        var d = Data()
        withUnsafeBytes(of: (claimedLength ?? UInt64(json.utf8.count)).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(json.utf8))
        d.append(contentsOf: data)
        return d
    }

    func testSafeTensorsRefusals() {
        func err(_ d: Data) -> String { message { try SafeTensors.parse(d, path: "w.safetensors") } }
        XCTAssertEqual(err(Data([1, 2, 3])), "w.safetensors: error: truncated: 3 bytes, shorter than the 8-byte header length")
        XCTAssertTrue(err(file("{}", claimedLength: 1 << 40)).contains("more than the 104857600-byte limit"))
        XCTAssertTrue(err(file("{}", claimedLength: 1000)).contains("truncated: the header claims 1000 bytes"))
        XCTAssertTrue(err(file("not json")).contains("the header is not valid JSON"))
        XCTAssertTrue(err(file("[1, 2]")).contains("the header is not a JSON object"))
        let lies = #"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}"#
        XCTAssertEqual(err(file(lies, data: Array(repeating: 0, count: 16))),
                       "w.safetensors: error: tensor 'w': shape [2, 2] of F32 needs 16 bytes but data_offsets give 12")
        let past = #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#
        XCTAssertTrue(err(file(past, data: [0, 0, 0, 0])).contains("tensor 'w': its data ends at byte 16 but the file holds 4 bytes"))
        let huge = #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 0]}}"#
        XCTAssertTrue(err(file(huge)).contains("tensor 'w': its size overflows"))
        let overlap = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
        XCTAssertTrue(err(file(overlap, data: Array(repeating: 0, count: 12))).contains("tensor 'b': its data overlaps that of 'a'"))
        let dtype = #"{"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}"#
        XCTAssertTrue(err(file(dtype, data: Array(repeating: 0, count: 8))).contains("dtype C64 is not supported"))
    }

    /// The data ranges as the format requires them: contiguous from byte 0 to the end, no overlap, no
    /// hole. An empty tensor between two others once hid an overlap.
    func testSafeTensorsRangesCoverTheDataExactly() {
        func err(_ json: String, _ size: Int) -> String { message { try SafeTensors.parse(self.file(json, data: Array(repeating: 0, count: size)), path: "w.safetensors") } }
        func entry(_ name: String, _ count: Int, _ from: Int) -> String {
            "\"\(name)\": {\"dtype\": \"F32\", \"shape\": [\(count)], \"data_offsets\": [\(from), \(from + 4 * count)]}"
        }
        XCTAssertEqual(err("{" + [entry("fc.weight", 32, 0), entry("z", 0, 16), entry("fc.bias", 4, 32)].joined(separator: ", ") + "}", 128),
                       "w.safetensors: error: tensor 'z': its data overlaps that of 'fc.weight'")
        XCTAssertEqual(err("{" + [entry("a", 2, 0), entry("b", 2, 12)].joined(separator: ", ") + "}", 20),
                       "w.safetensors: error: tensor 'b': its data starts at byte 12, but that of 'a' ends at byte 8: the 4 bytes between belong to no tensor")
        XCTAssertEqual(err("{" + entry("a", 2, 4) + "}", 12),
                       "w.safetensors: error: tensor 'a': its data starts at byte 4, but the data starts at byte 0: the 4 bytes between belong to no tensor")
        XCTAssertEqual(err("{" + entry("a", 2, 0) + "}", 12),
                       "w.safetensors: error: the tensors' data ends at byte 8 but the file holds 12 bytes of data: the last 4 belong to no tensor")
        XCTAssertEqual(err("{}", 4), "w.safetensors: error: the tensors' data ends at byte 0 but the file holds 4 bytes of data: the last 4 belong to no tensor")
        // Empty tensors anywhere along contiguous data are fine.
        let ok = "{" + [entry("e0", 0, 0), entry("a", 2, 0), entry("e1", 0, 8), entry("b", 1, 8), entry("e2", 0, 12)].joined(separator: ", ") + "}"
        XCTAssertEqual(err(ok, 12), "no error")
        XCTAssertEqual(try SafeTensors.parse(file(ok, data: Array(repeating: 0, count: 12)), path: "w").map(\.name), ["e0", "a", "e1", "b", "e2"])
    }

    /// A name or a field given twice is refused (JSON parsers disagree on which wins); the header's
    /// strings are decoded with every escape and must be valid UTF-8.
    func testSafeTensorsHeaderGrammar() throws {
        func err(_ json: String, _ size: Int = 0) -> String { message { try SafeTensors.parse(self.file(json, data: Array(repeating: 0, count: size)), path: "w") } }
        let w = #""dtype": "F32", "shape": [1], "data_offsets": [0, 4]"#
        XCTAssertEqual(err("{\"a\": {\(w)}, \"a\": {\(w)}}", 4), "w: error: tensor 'a': it appears twice in the header")
        XCTAssertEqual(err("{\"a\": {\(w), \"dtype\": \"F16\"}}", 4), "w: error: tensor 'a': its header entry gives 'dtype' twice")
        XCTAssertEqual(err(#"{"__metadata__": {"k": "v", "k": "w"}}"#), "w: error: __metadata__ gives 'k' twice")
        XCTAssertEqual(err(#"{"__metadata__": {"k": 1}}"#), "w: error: __metadata__ is not a map of strings ('k')")
        XCTAssertEqual(err(#"{"__metadata__": null, "__metadata__": {}}"#), "w: error: __metadata__ appears twice in the header")
        XCTAssertEqual(err(#"{"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}"#, 4), "w: error: tensor 'a': its shape is not a list of non-negative integers")
        XCTAssertEqual(err(#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, 4), "w: error: tensor 'a': its shape is not a list of non-negative integers")
        XCTAssertEqual(err(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}"#, 4), "w: error: tensor 'a': its data_offsets are not two increasing integers")
        XCTAssertEqual(err(#"{"a": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}}"#, 4), "w: error: tensor 'a': its dtype is not a string")
        XCTAssertEqual(err(#"{"a": 3}"#), "w: error: tensor 'a': its header entry is not an object")
        XCTAssertEqual(err(#"{"a": {"shape": [1], "data_offsets": [0, 4]}}"#, 4), "w: error: tensor 'a': no dtype")
        XCTAssertEqual(err("{\"a\": {\(w)}} x", 4), "w: error: the header is not valid JSON (at byte 62 of the header: unexpected bytes after the header's object)")
        XCTAssertEqual(err("{\"a\": {\(w)},}", 4), "w: error: the header is not valid JSON (at byte 61 of the header: expected a string)")
        XCTAssertEqual(err(#"{"a\u0000": {"# + w + "}}", 4), "no error")
        XCTAssertTrue(err(#"{"\ud800": {}}"#).hasSuffix("a lone surrogate in a string)"))
        XCTAssertTrue(err("{\"a\u{0A}b\": {}}").hasSuffix("a control character inside a string)"))
        var bad = file("{\"\u{FF}\": {}}")
        bad[10] = 0xFF  // the first byte of ÿ: FF BF is not UTF-8
        XCTAssertTrue(message { try SafeTensors.parse(bad, path: "w") }.hasSuffix("a string is not valid UTF-8)"))
        // Escaped names are decoded, unknown fields of an entry skipped (the reference implementation ignores them).
        let named = try SafeTensors.parse(file(#"{"caf\u00e9.\ud83d\ude00\"\/": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": [{"x": [null, true, -1.5e3]}]}, "__metadata__": {"format": "pt"}}"#,
                                               data: [0, 0, 128, 63]), path: "w")
        XCTAssertEqual(named.map(\.name), ["café.😀\"/"])
        XCTAssertEqual(named.first?.tensor.floats, [1])
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertTrue(err("{\"a\": {\(w), \"x\": \(deep)}}", 4).contains("values nested more than 64 deep"))
    }

    /// A large header (200,000 entries, mostly empty tensors) parses into exactly its entries.
    func testSafeTensorsLargeHeader() throws {
        let n = 200_000
        var json = "{\"__metadata__\": {\"format\": \"pt\"}"
        for i in 0..<n { json += ",\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[\(i == n / 2 ? 1 : 0)],\"data_offsets\":[0,\(i == n / 2 ? 4 : 0)]}" }
        json += "}"
        let tensors = try SafeTensors.parse(file(json, data: [0, 0, 0, 64]), path: "big")
        XCTAssertEqual(tensors.count, n)
        XCTAssertEqual(Set(tensors.map(\.name)).count, n)
        XCTAssertEqual(tensors.first { $0.name == "t\(n / 2)" }?.tensor.floats, [2])
        // The same header with one name twice is refused.
        let twice = json.replacingOccurrences(of: "\"t7\":", with: "\"t6\":")
        XCTAssertEqual(message { try SafeTensors.parse(self.file(twice, data: [0, 0, 0, 64]), path: "big") }, "big: error: tensor 't6': it appears twice in the header")
    }

    /// The budget hears how many 4-byte values the tensors will take before any is decoded, and may refuse.
    func testSafeTensorsBudgetComesFirst() throws {
        let p = tmp("budget.safetensors")
        try SafeTensors.write([("w", Tensor(shape: [3], floats: [1, 2, 3])), ("n", Tensor(shape: [], ints: [4]))], to: p)
        var asked: [Int] = []
        _ = try SafeTensors.read(path: p) { asked.append($0) }
        XCTAssertEqual(asked, [5], "3 floats and an integer counted as 2")
        struct TooBig: Error {}
        XCTAssertThrowsError(try SafeTensors.read(path: p) { _ in throw TooBig() }) { XCTAssertTrue($0 is TooBig) }
    }
}
