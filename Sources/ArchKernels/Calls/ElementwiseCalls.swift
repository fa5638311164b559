/// An activation over every element (in place when input and output are the same value).
public struct ActivationCall: KernelCallProtocol {
    public var count = 0
    public var activation = Activation.none
    public var input = 0, output = 0

    public init(count: Int = 0, activation: Activation = Activation.none, input: Int = 0, output: Int = 0) {
        self.count = count; self.activation = activation; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        if x != y { y.update(from: x, count: count) }
        activation.apply(y, count: count)
    }
}

/// Softmax along one dimension of a tensor seen as [outer, width, inner].
public struct SoftmaxCall: KernelCallProtocol {
    public var outer = 0, width = 0, inner = 1
    public var input = 0, output = 0

    public init(outer: Int = 0, width: Int = 0, inner: Int = 1, input: Int = 0, output: Int = 0) {
        self.outer = outer; self.width = width; self.inner = inner; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        let count = outer * width * inner
        if x != y { y.update(from: x, count: count) }
        if inner == 1 { Elementwise.softmaxRows(y, rows: outer, width: width); return }
        // Along a middle dimension: gather each strided line, normalise, scatter back.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { line in
            let l = line.baseAddress!
            for o in 0..<outer { for i in 0..<inner {
                let base = y + o * width * inner + i
                for j in 0..<width { l[j] = base[j * inner] }
                Elementwise.softmaxRows(l, rows: 1, width: width)
                for j in 0..<width { base[j * inner] = l[j] }
            } }
        }
    }
}

/// out = activation(lhs op rhs) elementwise, broadcasting size-1 dimensions as PyTorch does: each
/// operand is read with its own strides over the output's shape (stride 0 along a broadcast dimension).
/// The right operand is a value, or a constant (`constant`: a learned tensor, or a number read with
/// every stride 0); `rsub` and `rdiv` compute rhs - lhs and rhs / lhs.
public struct BinaryCall: KernelCallProtocol {
    public enum Op: String, Sendable { case add, sub, mul, div, rsub, rdiv }
    public var op = Op.add
    public var shape: [Int] = []
    public var lhsStrides: [Int] = [], rhsStrides: [Int] = []
    public var lhs = 0, rhs = 0, output = 0
    public var activation = Activation.none
    /// When set, the right operand is this constant and `rhs` is not read.
    public var constant: Int? = nil

    public init(op: Op = Op.add, shape: [Int] = [], lhsStrides: [Int] = [], rhsStrides: [Int] = [], lhs: Int = 0, rhs: Int = 0,
                output: Int = 0, activation: Activation = Activation.none, constant: Int? = nil) {
        self.op = op; self.shape = shape; self.lhsStrides = lhsStrides; self.rhsStrides = rhsStrides; self.lhs = lhs; self.rhs = rhs
        self.output = output; self.activation = activation; self.constant = constant
    }

    public var reads: [Int] { constant == nil ? [lhs, rhs] : [lhs] }

    /// Row-major strides of `shape`, zero along the dimensions where `operand` has size 1 (an operand
    /// of lower rank is aligned at the last dimension, as in PyTorch).
    public static func strides(of operand: [Int], broadcastTo shape: [Int]) -> [Int] {
        let operand = Array(repeating: 1, count: max(0, shape.count - operand.count)) + operand
        var strides = [Int](repeating: 0, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = operand[i] == 1 && shape[i] != 1 ? 0 : s
            s *= operand[i]
        }
        return strides
    }

    public func run(_ f: Frame) {
        let a = f.value(lhs), b = constant.map { f.constant($0) } ?? f.value(rhs), y = f.value(output)
        let count = shape.reduce(1, *)
        switch op {
        case .add: apply(a, b, y, count) { $0 + $1 }
        case .sub: apply(a, b, y, count) { $0 - $1 }
        case .mul: apply(a, b, y, count) { $0 * $1 }
        case .div: apply(a, b, y, count) { $0 / $1 }
        case .rsub: apply(a, b, y, count) { $1 - $0 }
        case .rdiv: apply(a, b, y, count) { $1 / $0 }
        }
        activation.apply(y, count: count)
    }

    /// Dense operands element by element; otherwise rows of the last dimension, each operand's row
    /// start found by an index per dimension carried like an odometer. The output may be an operand
    /// whose strides are dense (each element is read before it is written).
    @inline(__always)
    func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
               _ f: (Float, Float) -> Float) {
        let dense = BinaryCall.strides(of: shape, broadcastTo: shape)
        if lhsStrides == dense && rhsStrides == dense {
            for i in 0..<count { y[i] = f(a[i], b[i]) }
            return
        }
        let r = shape.count
        guard r > 0, count > 0 else { if count == 1 { y[0] = f(a[0], b[0]) }; return }
        let inner = shape[r - 1], sa = lhsStrides[r - 1], sb = rhsStrides[r - 1]
        withUnsafeTemporaryAllocation(of: Int.self, capacity: r) { idx in
            idx.initialize(repeating: 0)
            var o = 0
            while o < count {
                var ia = 0, ib = 0
                for k in 0..<(r - 1) { ia += idx[k] * lhsStrides[k]; ib += idx[k] * rhsStrides[k] }
                for t in 0..<inner { y[o + t] = f(a[ia + t * sa], b[ib + t * sb]) }
                o += inner
                var k = r - 2
                while k >= 0 { idx[k] += 1; if idx[k] < shape[k] { break }; idx[k] = 0; k -= 1 }
            }
        }
    }
}
