import XCTest
@testable import ArchExport

/// The Protocol Buffers writer against bytes worked out by hand from the wire format
/// (protobuf.dev/programming-guides/encoding) and onnx.proto's field numbers.
final class ONNXProtobufTests: XCTestCase {
    func written(_ body: (inout ProtoWriter) -> Void) -> [UInt8] {
        var w = ProtoWriter()
        body(&w)
        XCTAssertEqual(w.count, w.bytes.count)
        return w.bytes
    }

    func testVarintEdgeCases() {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0x00]), (1, [0x01]), (127, [0x7F]), (128, [0x80, 0x01]), (150, [0x96, 0x01]), (300, [0xAC, 0x02]),
            (16_383, [0xFF, 0x7F]), (16_384, [0x80, 0x80, 0x01]), (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, bytes) in cases { XCTAssertEqual(written { $0.varint(value) }, bytes, "\(value)") }
    }

    func testTagsAndSignedInts() {
        // (field << 3) | wire type; field 20 (AttributeProto.type) needs two bytes.
        XCTAssertEqual(written { $0.int(1, 8) }, [0x08, 0x08])
        XCTAssertEqual(written { $0.int(20, 7) }, [0xA0, 0x01, 0x07])
        XCTAssertEqual(written { $0.int(2, 0) }, [0x10, 0x00])
        // A negative int64 is its two's complement: ten bytes.
        XCTAssertEqual(written { $0.int(3, -1) }, [0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        XCTAssertEqual(written { $0.int(3, -2) }, [0x18, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        XCTAssertEqual(written { $0.int(3, Int64.min) }, [0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
    }

    func testFloatsStringsAndBytes() {
        XCTAssertEqual(written { $0.float(2, 1) }, [0x15, 0x00, 0x00, 0x80, 0x3F])
        XCTAssertEqual(written { $0.float(2, -0.5) }, [0x15, 0x00, 0x00, 0x00, 0xBF])
        XCTAssertEqual(written { $0.float(2, 1e-5) }, [0x15, 0xAC, 0xC5, 0x27, 0x37])
        XCTAssertEqual(written { $0.string(1, "ab") }, [0x0A, 0x02, 0x61, 0x62])
        XCTAssertEqual(written { $0.string(1, "") }, [0x0A, 0x00])
        XCTAssertEqual(written { $0.string(4, "é") }, [0x22, 0x02, 0xC3, 0xA9])
        let long = String(repeating: "x", count: 200)
        XCTAssertEqual(Array(written { $0.string(1, long) }.prefix(3)), [0x0A, 0xC8, 0x01])
    }

    func testPackedArrays() {
        // TensorProto.float_data (4) and int64_data (7): one length-delimited field each.
        XCTAssertEqual(written { $0.packedFloats(4, [1, -2]) }, [0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
        XCTAssertEqual(written { $0.packedFloats(4, []) }, [0x22, 0x00])
        XCTAssertEqual(written { $0.packedInts(7, [1, 300, -1]) },
                       [0x3A, 0x0D, 0x01, 0xAC, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    func testAttributesAndNodes() {
        // name "axis" (1), i = -1 (3), type INT = 2 (20).
        XCTAssertEqual(ProtoWriter.encode(AttributeProto("axis", .int(-1))),
                       [0x0A, 0x04, 0x61, 0x78, 0x69, 0x73, 0x18] + Array(repeating: 0xFF, count: 9) + [0x01, 0xA0, 0x01, 0x02])
        // floats are unpacked (proto2): one field 7 per float; type FLOATS = 6.
        XCTAssertEqual(ProtoWriter.encode(AttributeProto("s", .floats([1, 2]))),
                       [0x0A, 0x01, 0x73, 0x3D, 0x00, 0x00, 0x80, 0x3F, 0x3D, 0x00, 0x00, 0x00, 0x40, 0xA0, 0x01, 0x06])
        XCTAssertEqual(ProtoWriter.encode(AttributeProto("p", .ints([1, 2]))), [0x0A, 0x01, 0x70, 0x40, 0x01, 0x40, 0x02, 0xA0, 0x01, 0x07])
        XCTAssertEqual(ProtoWriter.encode(AttributeProto("m", .string("nearest"))),
                       [0x0A, 0x01, 0x6D, 0x22, 0x07] + Array("nearest".utf8) + [0xA0, 0x01, 0x03])
        // input (1), output (2), name (3), op_type (4), then the attribute as a nested message (5).
        let node = NodeProto("Relu", inputs: ["x"], outputs: ["y"], name: "r", attributes: [AttributeProto("a", .int(1))])
        XCTAssertEqual(ProtoWriter.encode(node), [0x0A, 0x01, 0x78, 0x12, 0x01, 0x79, 0x1A, 0x01, 0x72, 0x22, 0x04, 0x52, 0x65, 0x6C, 0x75,
                                                  0x2A, 0x08, 0x0A, 0x01, 0x61, 0x18, 0x01, 0xA0, 0x01, 0x02])
    }

    func testNestedShapesAndTypes() {
        let shape = TensorShapeProto([.value(3), .param("batch")])
        let dims: [UInt8] = [0x0A, 0x02, 0x08, 0x03, 0x0A, 0x07, 0x12, 0x05] + Array("batch".utf8)
        XCTAssertEqual(ProtoWriter.encode(shape), dims)
        // TypeProto { tensor_type (1) { elem_type (1) = FLOAT, shape (2) } }.
        let type = TypeProto(.float, shape)
        XCTAssertEqual(ProtoWriter.encode(type), [0x0A, UInt8(dims.count + 4), 0x08, 0x01, 0x12, UInt8(dims.count)] + dims)
        let info = ValueInfoProto(name: "x", type: type)
        XCTAssertEqual(ProtoWriter.encode(info), [0x0A, 0x01, 0x78, 0x12, UInt8(dims.count + 6)] + ProtoWriter.encode(type))
        XCTAssertEqual(ProtoWriter.size(of: info), ProtoWriter.encode(info).count)
        XCTAssertEqual(ProtoWriter.encode(OperatorSetIdProto(version: 18)), [0x10, 0x12])
    }

    func testTensorsSmallTypedLargeRaw() {
        // dims (1), data_type (2), float_data packed (4), name (8).
        XCTAssertEqual(ProtoWriter.encode(TensorProto(name: "w", dims: [2], data: .floats([1, 2]))),
                       [0x08, 0x02, 0x10, 0x01, 0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x42, 0x01, 0x77])
        XCTAssertEqual(ProtoWriter.encode(TensorProto(name: "i", dims: [], data: .int64s([-1]))),
                       [0x10, 0x07, 0x3A, 0x0A] + Array(repeating: 0xFF, count: 9) + [0x01, 0x42, 0x01, 0x69])
        // 16 floats and more go to raw_data (9): little-endian bytes.
        let values = (0..<16).map(Float.init)
        let bytes = ProtoWriter.encode(TensorProto(name: "t", dims: [4, 4], data: .floats(values)))
        XCTAssertEqual(Array(bytes.prefix(10)), [0x08, 0x04, 0x08, 0x04, 0x10, 0x01, 0x42, 0x01, 0x74, 0x4A])
        XCTAssertEqual(bytes[10], 64)
        XCTAssertEqual(Array(bytes[15..<19]), [0x00, 0x00, 0x80, 0x3F], "the second float, 1.0")
        XCTAssertEqual(bytes.count, 11 + 64)
    }

    func testModelNestsGraphWithLongFields() {
        var graph = GraphProto(name: "g")
        graph.initializers = [TensorProto(name: "w", dims: [300], data: .floats(Array(repeating: 0.5, count: 300)))]
        graph.nodes = [NodeProto("Identity", inputs: ["x"], outputs: ["y"], name: "n")]
        let model = ModelProto(irVersion: 8, opsets: [OperatorSetIdProto(version: 18)], producerName: "archc", producerVersion: "0.1.0", graph: graph)
        let bytes = ProtoWriter.encode(model)
        XCTAssertEqual(bytes.count, ProtoWriter.size(of: model))
        // ir_version (1) = 8, producer_name (2), producer_version (3), then graph (7) with a two-byte length.
        XCTAssertEqual(Array(bytes.prefix(2)), [0x08, 0x08])
        let graphAt = 2 + 7 + 7
        XCTAssertEqual(bytes[graphAt], 0x3A)
        let graphSize = ProtoWriter.size(of: graph)
        XCTAssertGreaterThan(graphSize, 1200)
        XCTAssertEqual(Array(bytes[(graphAt + 1)...(graphAt + 2)]), [UInt8(graphSize & 0x7F) | 0x80, UInt8(graphSize >> 7)])
        XCTAssertEqual(Array(bytes.suffix(4)), [0x42, 0x02, 0x10, 0x12], "opset_import (8) last")
    }
}
