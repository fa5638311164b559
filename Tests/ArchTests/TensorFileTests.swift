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
}
