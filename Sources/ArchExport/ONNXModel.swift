/// The messages of onnx.proto an exported model uses, with the field numbers of onnx/onnx.proto
/// (ONNX 1.13+, IR version 8). Only the fields archc writes are here; each writes itself in
/// field-number order, leaving out fields at their default (empty) value.
public enum ONNX {
    /// TensorProto.DataType.
    public enum DataType: Int64, Sendable { case float = 1, int64 = 7, bool = 9 }
}

public struct OperatorSetIdProto: ProtoMessage, Sendable {
    public var domain = ""
    public var version: Int64
    public init(domain: String = "", version: Int64) { self.domain = domain; self.version = version }
    public func encode(to w: inout ProtoWriter) {
        if !domain.isEmpty { w.string(1, domain) }
        w.int(2, version)
    }
}

/// TensorShapeProto: each dimension a size (dim_value) or a name (dim_param).
public struct TensorShapeProto: ProtoMessage, Sendable {
    public enum Dimension: Sendable, Equatable { case value(Int64), param(String) }
    public var dims: [Dimension]
    public init(_ dims: [Dimension]) { self.dims = dims }

    struct DimensionMessage: ProtoMessage {
        var dim: Dimension
        func encode(to w: inout ProtoWriter) {
            switch dim {
            case .value(let v): w.int(1, v)
            case .param(let p): w.string(2, p)
            }
        }
    }

    public func encode(to w: inout ProtoWriter) {
        for d in dims { w.message(1, DimensionMessage(dim: d)) }
    }
}

/// TypeProto holding a TypeProto.Tensor (field 1): element type and shape.
public struct TypeProto: ProtoMessage, Sendable {
    public var elementType: ONNX.DataType
    public var shape: TensorShapeProto
    public init(_ elementType: ONNX.DataType, _ shape: TensorShapeProto) { self.elementType = elementType; self.shape = shape }

    struct TensorType: ProtoMessage {
        var type: TypeProto
        func encode(to w: inout ProtoWriter) {
            w.int(1, type.elementType.rawValue)
            w.message(2, type.shape)
        }
    }

    public func encode(to w: inout ProtoWriter) { w.message(1, TensorType(type: self)) }
}

public struct ValueInfoProto: ProtoMessage, Sendable {
    public var name: String
    public var type: TypeProto
    public init(name: String, type: TypeProto) { self.name = name; self.type = type }
    public func encode(to w: inout ProtoWriter) {
        w.string(1, name)
        w.message(2, type)
    }
}

/// TensorProto: an initializer or a constant. Small tensors go in float_data / int64_data
/// (packed), larger ones in raw_data (little-endian bytes).
public struct TensorProto: ProtoMessage, Sendable {
    public enum Data: Sendable, Hashable { case floats([Float]), int64s([Int64]) }
    /// Where a tensor's bytes are when they are kept in a file beside the model (ONNX's external data).
    public struct ExternalData: Sendable, Hashable {
        public var location: String, offset: Int, length: Int
        public init(location: String, offset: Int, length: Int) { self.location = location; self.offset = offset; self.length = length }
    }

    public var name: String
    public var dims: [Int64]
    public var data: Data
    public var docString = ""
    /// Set: the values are in the external data file (and `data` is what goes there).
    public var external: ExternalData?
    /// Tensors with fewer elements than this are written as typed fields (readable in a dump).
    public static let rawThreshold = 16

    public init(name: String, dims: [Int], data: Data) {
        self.name = name
        self.dims = dims.map(Int64.init)
        self.data = data
    }

    public var dataType: ONNX.DataType {
        switch data {
        case .floats: return .float
        case .int64s: return .int64
        }
    }

    public func encode(to w: inout ProtoWriter) {
        for d in dims { w.int(1, d) }
        w.int(2, dataType.rawValue)
        switch data {
        case .floats(let v) where v.count < Self.rawThreshold && external == nil: w.packedFloats(4, v)
        case .int64s(let v) where v.count < Self.rawThreshold && external == nil: w.packedInts(7, v)
        default: break
        }
        w.string(8, name)
        switch data {
        case .floats(let v) where v.count >= Self.rawThreshold && external == nil: Self.raw(v, field: 9, &w)
        case .int64s(let v) where v.count >= Self.rawThreshold && external == nil: Self.raw(v, field: 9, &w)
        default: break
        }
        if !docString.isEmpty { w.string(12, docString) }
        if let external {
            // external_data (13): location, offset, length; data_location (14) = EXTERNAL.
            for (k, v) in [("location", external.location), ("offset", String(external.offset)), ("length", String(external.length))] {
                w.message(13, StringStringEntryProto(key: k, value: v))
            }
            w.int(14, 1)
        }
    }

    /// The values' bytes, little-endian (what raw_data or the external data file holds).
    public var byteCount: Int {
        switch data {
        case .floats(let v): return v.count * 4
        case .int64s(let v): return v.count * 8
        }
    }

    /// Calls `body` with the values' little-endian bytes.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        #if _endian(little)
        switch data {
        case .floats(let v): return try v.withUnsafeBytes(body)
        case .int64s(let v): return try v.withUnsafeBytes(body)
        }
        #else
        switch data {
        case .floats(let v): return try v.map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
        case .int64s(let v): return try v.map { $0.littleEndian }.withUnsafeBytes(body)
        }
        #endif
    }

    static func raw<T: FixedWidthInteger>(_ v: [T], field: Int, _ w: inout ProtoWriter) {
        #if _endian(little)
        v.withUnsafeBytes { w.bytes(field, $0) }
        #else
        v.map { $0.littleEndian }.withUnsafeBytes { w.bytes(field, $0) }
        #endif
    }

    static func raw(_ v: [Float], field: Int, _ w: inout ProtoWriter) {
        #if _endian(little)
        v.withUnsafeBytes { w.bytes(field, $0) }
        #else
        v.map { $0.bitPattern.littleEndian }.withUnsafeBytes { w.bytes(field, $0) }
        #endif
    }
}

/// StringStringEntryProto: a key and a value (a tensor's external_data).
public struct StringStringEntryProto: ProtoMessage, Sendable {
    public var key: String, value: String
    public func encode(to w: inout ProtoWriter) {
        w.string(1, key)
        w.string(2, value)
    }
}

/// AttributeProto: a named float, int, string, tensor or list of floats, ints or strings.
public struct AttributeProto: ProtoMessage, Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case float(Float), int(Int64), string(String), tensor(TensorProto), floats([Float]), ints([Int64]), strings([String])
    }
    public var name: String
    public var value: Value
    public init(_ name: String, _ value: Value) { self.name = name; self.value = value }

    /// AttributeProto.AttributeType.
    var type: Int64 {
        switch value {
        case .float: return 1
        case .int: return 2
        case .string: return 3
        case .tensor: return 4
        case .floats: return 6
        case .ints: return 7
        case .strings: return 8
        }
    }

    public func encode(to w: inout ProtoWriter) {
        w.string(1, name)
        switch value {
        case .float(let f): w.float(2, f)
        case .int(let i): w.int(3, i)
        case .string(let s): w.string(4, s)
        case .tensor(let t): w.message(5, t)
        // proto2 declares these repeated fields unpacked: one field per element.
        case .floats(let fs): for f in fs { w.float(7, f) }
        case .ints(let xs): for x in xs { w.int(8, x) }
        case .strings(let ss): for s in ss { w.string(9, s) }
        }
        w.int(20, type)
    }
}

extension TensorProto: Equatable {}

public struct NodeProto: ProtoMessage, Sendable, Equatable {
    public var inputs: [String]
    public var outputs: [String]
    public var name: String
    public var opType: String
    public var attributes: [AttributeProto]
    public var docString: String

    public init(_ opType: String, inputs: [String], outputs: [String], name: String, attributes: [AttributeProto] = [], docString: String = "") {
        self.opType = opType; self.inputs = inputs; self.outputs = outputs; self.name = name
        self.attributes = attributes; self.docString = docString
    }

    public func encode(to w: inout ProtoWriter) {
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        w.string(3, name)
        w.string(4, opType)
        for a in attributes { w.message(5, a) }
        if !docString.isEmpty { w.string(6, docString) }
    }
}

public struct GraphProto: ProtoMessage, Sendable {
    public var nodes: [NodeProto] = []
    public var name: String
    public var initializers: [TensorProto] = []
    public var docString = ""
    public var inputs: [ValueInfoProto] = []
    public var outputs: [ValueInfoProto] = []
    public var valueInfo: [ValueInfoProto] = []

    public init(name: String) { self.name = name }

    public func encode(to w: inout ProtoWriter) {
        for n in nodes { w.message(1, n) }
        w.string(2, name)
        for t in initializers { w.message(5, t) }
        if !docString.isEmpty { w.string(10, docString) }
        for i in inputs { w.message(11, i) }
        for o in outputs { w.message(12, o) }
        for v in valueInfo { w.message(13, v) }
    }
}

public struct ModelProto: ProtoMessage, Sendable {
    public var irVersion: Int64
    public var opsets: [OperatorSetIdProto]
    public var producerName: String
    public var producerVersion: String
    public var docString = ""
    public var graph: GraphProto

    public init(irVersion: Int64, opsets: [OperatorSetIdProto], producerName: String, producerVersion: String, graph: GraphProto) {
        self.irVersion = irVersion; self.opsets = opsets; self.producerName = producerName
        self.producerVersion = producerVersion; self.graph = graph
    }

    public func encode(to w: inout ProtoWriter) {
        w.int(1, irVersion)
        w.string(2, producerName)
        w.string(3, producerVersion)
        if !docString.isEmpty { w.string(6, docString) }
        w.message(7, graph)
        for o in opsets { w.message(8, o) }
    }
}
