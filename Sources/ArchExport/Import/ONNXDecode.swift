/// An ONNX model read back: the parts the importer uses (opsets, nodes, initializers, inputs and
/// outputs with their types), decoded from the fields onnx.proto numbers.
public struct DecodedModel {
    public struct Input {
        public var name: String
        /// TensorProto.DataType (1 float, 7 int64, ...).
        public var elementType: Int64
        public var dims: [TensorShapeProto.Dimension]
    }

    public var opsets: [(domain: String, version: Int64)] = []
    public var nodes: [NodeProto] = []
    public var initializers: [String: TensorProto] = [:]
    public var inputs: [Input] = []
    public var outputs: [String] = []
    public var name = ""
}

public enum ONNXDecode {
    public static func model(_ bytes: [UInt8]) throws -> DecodedModel {
        var m = DecodedModel()
        var r = ProtoReader(bytes)
        var graph: Range<Int>?
        while let f = try r.next() {
            switch (f.number, f.value) {
            case (7, .bytes(let g)): graph = g
            case (8, .bytes(let o)):
                var o = r.nested(o), domain = "", version: Int64 = 0
                while let g = try o.next() {
                    if case (1, .bytes(let s)) = (g.number, g.value) { domain = o.string(s) }
                    if case (2, .varint(let v)) = (g.number, g.value) { version = Int64(bitPattern: v) }
                }
                m.opsets.append((domain, version))
            default: break
            }
        }
        guard let graph else { throw ProtoError("no graph (is this an ONNX model?)") }
        try decodeGraph(r.nested(graph), into: &m)
        return m
    }

    static func decodeGraph(_ reader: ProtoReader, into m: inout DecodedModel) throws {
        var r = reader
        while let f = try r.next() {
            guard case .bytes(let b) = f.value else { continue }
            switch f.number {
            case 1: m.nodes.append(try node(r.nested(b)))
            case 2: m.name = r.string(b)
            case 5:
                let t = try tensor(r.nested(b))
                m.initializers[t.name] = t
            case 11: m.inputs.append(try valueInfo(r.nested(b)))
            case 12: m.outputs.append(try valueInfo(r.nested(b)).name)
            default: break
            }
        }
    }

    static func node(_ reader: ProtoReader) throws -> NodeProto {
        var r = reader, n = NodeProto("", inputs: [], outputs: [], name: "")
        var domain = ""
        while let f = try r.next() {
            guard case .bytes(let b) = f.value else { continue }
            switch f.number {
            case 1: n.inputs.append(r.string(b))
            case 2: n.outputs.append(r.string(b))
            case 3: n.name = r.string(b)
            case 4: n.opType = r.string(b)
            case 5: if let a = try attribute(r.nested(b)) { n.attributes.append(a) }
            case 7: domain = r.string(b)
            default: break
            }
        }
        // An op of another domain is another op: keep the domain in the type so it is reported as unsupported.
        if !domain.isEmpty && domain != "ai.onnx" { n.opType = "\(domain).\(n.opType)" }
        return n
    }

    /// An attribute's value by the fields present (nil for graphs and other kinds archc never reads).
    static func attribute(_ reader: ProtoReader) throws -> AttributeProto? {
        var r = reader, name = "", value: AttributeProto.Value?
        var floats: [Float] = [], ints: [Int64] = [], strings: [String] = []
        while let f = try r.next() {
            switch (f.number, f.value) {
            case (1, .bytes(let b)): name = r.string(b)
            case (2, .fixed32(let bits)): value = .float(Float(bitPattern: bits))
            case (3, .varint(let v)): value = .int(Int64(bitPattern: v))
            case (4, .bytes(let b)): value = .string(r.string(b))
            case (5, .bytes(let b)): value = .tensor(try tensor(r.nested(b)))
            case (7, .fixed32(let bits)): floats.append(Float(bitPattern: bits))
            case (7, .bytes(let b)): floats += try r.packedFloats(b)
            case (8, .varint(let v)): ints.append(Int64(bitPattern: v))
            case (8, .bytes(let b)): ints += try r.packedVarints(b).map { Int64(bitPattern: $0) }
            case (9, .bytes(let b)): strings.append(r.string(b))
            default: break
            }
        }
        if value == nil { value = !floats.isEmpty ? .floats(floats) : !ints.isEmpty ? .ints(ints) : !strings.isEmpty ? .strings(strings) : nil }
        return value.map { AttributeProto(name, $0) }
    }

    static func valueInfo(_ reader: ProtoReader) throws -> DecodedModel.Input {
        var r = reader, input = DecodedModel.Input(name: "", elementType: 0, dims: [])
        while let f = try r.next() {
            guard case .bytes(let b) = f.value else { continue }
            if f.number == 1 { input.name = r.string(b) }
            guard f.number == 2 else { continue }
            var type = r.nested(b)
            while let t = try type.next() {
                guard t.number == 1, case .bytes(let tb) = t.value else { continue }
                var tensorType = r.nested(tb)
                while let tt = try tensorType.next() {
                    if case (1, .varint(let e)) = (tt.number, tt.value) { input.elementType = Int64(bitPattern: e) }
                    if case (2, .bytes(let sb)) = (tt.number, tt.value) { input.dims = try dims(r.nested(sb)) }
                }
            }
        }
        return input
    }

    static func dims(_ reader: ProtoReader) throws -> [TensorShapeProto.Dimension] {
        var r = reader, out: [TensorShapeProto.Dimension] = []
        while let f = try r.next() {
            guard f.number == 1, case .bytes(let b) = f.value else { continue }
            var d = r.nested(b), dim = TensorShapeProto.Dimension.param("?")
            while let g = try d.next() {
                if case (1, .varint(let v)) = (g.number, g.value) { dim = .value(Int64(bitPattern: v)) }
                if case (2, .bytes(let s)) = (g.number, g.value) { dim = .param(d.string(s)) }
            }
            out.append(dim)
        }
        return out
    }
}

extension ONNXDecode {
    /// A tensor's values as floats (float, double, float16, bfloat16) or int64s (int64, int32, ...),
    /// from the typed fields or raw_data; external data and other types are errors naming the tensor.
    static func tensor(_ reader: ProtoReader) throws -> TensorProto {
        var r = reader, dims: [Int] = [], type: Int64 = 0, name = ""
        var floats: [Float] = [], ints: [Int64] = [], raw: ArraySlice<UInt8>?, external = false
        while let f = try r.next() {
            switch (f.number, f.value) {
            case (1, .varint(let v)): dims.append(Int(truncatingIfNeeded: v))
            case (1, .bytes(let b)): dims += try r.packedVarints(b).map { Int(truncatingIfNeeded: $0) }
            case (2, .varint(let v)): type = Int64(bitPattern: v)
            case (4, .fixed32(let bits)): floats.append(Float(bitPattern: bits))
            case (4, .bytes(let b)): floats += try r.packedFloats(b)
            case (5, .varint(let v)), (7, .varint(let v)): ints.append(Int64(bitPattern: v))
            case (5, .bytes(let b)), (7, .bytes(let b)): ints += try r.packedVarints(b).map { Int64(bitPattern: $0) }
            case (8, .bytes(let b)): name = r.string(b)
            case (9, .bytes(let b)): raw = r.bytes(b)
            case (10, .fixed64(let bits)): floats.append(Float(Double(bitPattern: bits)))
            case (10, .bytes(let b)): floats += try doubles(r.bytes(b))
            case (14, .varint(let v)): external = v == 1
            default: break
            }
        }
        guard !external else { throw ProtoError("tensor '\(name)' is stored in an external file, which archc does not read") }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw ProtoError("tensor '\(name)' has a negative size") }
        let count = dims.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let data: TensorProto.Data
        switch type {
        case 1, 10, 11, 16:
            if let raw { floats = try rawFloats(raw, type: type, name: name) }
            data = .floats(floats)
        case 2, 3, 4, 5, 6, 7, 9, 12, 13:
            if let raw { ints = try rawInts(raw, type: type, name: name) }
            data = .int64s(ints)
        default: throw ProtoError("tensor '\(name)' has the element type \(type), which archc does not read")
        }
        let stored: Int
        switch data {
        case .floats(let v): stored = v.count
        case .int64s(let v): stored = v.count
        }
        guard stored == count else { throw ProtoError("tensor '\(name)' has shape \(dims) but holds \(stored) values") }
        return TensorProto(name: name, dims: dims, data: data)
    }

    static func doubles(_ b: ArraySlice<UInt8>) throws -> [Float] {
        guard b.count % 8 == 0 else { throw ProtoError("packed doubles of \(b.count) bytes") }
        return stride(from: b.startIndex, to: b.endIndex, by: 8).map { i in
            Float(Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << UInt64(8 * $1) }))
        }
    }

    static func rawFloats(_ b: ArraySlice<UInt8>, type: Int64, name: String) throws -> [Float] {
        let width = type == 11 ? 8 : type == 1 ? 4 : 2
        guard b.count % width == 0 else { throw ProtoError("tensor '\(name)' has \(b.count) bytes of \(width)-byte values") }
        func word(_ i: Int, _ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << UInt64(8 * $1) } }
        return stride(from: b.startIndex, to: b.endIndex, by: width).map { i in
            switch type {
            case 11: return Float(Double(bitPattern: word(i, 8)))
            case 1: return Float(bitPattern: UInt32(word(i, 4)))
            case 16: return Float(bitPattern: UInt32(word(i, 2)) << 16)
            default: return half(UInt16(word(i, 2)))
            }
        }
    }

    /// IEEE half to Float (by hand: Float16 is unavailable on some platforms Swift runs on).
    static func half(_ h: UInt16) -> Float {
        let sign: Float = h >> 15 == 0 ? 1 : -1
        let exponent = Int((h >> 10) & 0x1F), fraction = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * fraction / 16_777_216
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    static func rawInts(_ b: ArraySlice<UInt8>, type: Int64, name: String) throws -> [Int64] {
        // uint8, int8, uint16, int16, int32, int64, bool, uint32, uint64
        let widths: [Int64: (Int, Bool)] = [2: (1, false), 3: (1, true), 4: (2, false), 5: (2, true), 6: (4, true), 7: (8, true),
                                            9: (1, false), 12: (4, false), 13: (8, false)]
        let (width, signed) = widths[type]!
        guard b.count % width == 0 else { throw ProtoError("tensor '\(name)' has \(b.count) bytes of \(width)-byte values") }
        return stride(from: b.startIndex, to: b.endIndex, by: width).map { i in
            let v = (0..<width).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << UInt64(8 * $1) }
            guard signed, width < 8 else { return Int64(bitPattern: v) }
            let shift = UInt64(64 - 8 * width)
            return Int64(bitPattern: v << shift) >> Int64(shift)
        }
    }
}
