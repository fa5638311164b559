/// Scaled dot-product attention over heads (`AttentionKernel`): q, k and v are column slices of
/// their values (rows `ldq`, `ldk`, `ldv` apart, starting `qOffset`, ... floats in: a packed qkv
/// projection is read in place), the output [b, n, heads dh] is written whole. `mask`, if any, is a
/// key padding mask [b, m] (0: the key is padding).
public struct AttentionCall: KernelCallProtocol {
    public var shape = AttentionKernel.Shape(batch: 0, heads: 1, kvHeads: 1, n: 0, m: 0, dh: 0, causal: false)
    public var q = 0, qOffset = 0, ldq = 0
    public var k = 0, kOffset = 0, ldk = 0
    public var v = 0, vOffset = 0, ldv = 0
    public var mask: Int? = nil
    public var output = 0
    public var scratch: Int? = nil
    public var threads = 1

    public init(shape: AttentionKernel.Shape = AttentionKernel.Shape(batch: 0, heads: 1, kvHeads: 1, n: 0, m: 0, dh: 0, causal: false),
                q: Int = 0, qOffset: Int = 0, ldq: Int = 0, k: Int = 0, kOffset: Int = 0, ldk: Int = 0, v: Int = 0, vOffset: Int = 0,
                ldv: Int = 0, mask: Int? = nil, output: Int = 0, scratch: Int? = nil, threads: Int = 1) {
        self.shape = shape; self.q = q; self.qOffset = qOffset; self.ldq = ldq; self.k = k; self.kOffset = kOffset; self.ldk = ldk
        self.v = v; self.vOffset = vOffset; self.ldv = ldv; self.mask = mask; self.output = output; self.scratch = scratch
        self.threads = threads
    }

    public var reads: [Int] { [q, k, v] + (mask.map { [$0] } ?? []) }
    public var scratchValue: Int? { scratch }

    public func run(_ f: Frame) {
        AttentionKernel.forward(shape, q: f.value(q) + qOffset, ldq: ldq, k: f.value(k) + kOffset, ldk: ldk, v: f.value(v) + vOffset, ldv: ldv,
                                out: f.value(output), ldo: shape.heads * shape.dh, mask: f.value(mask).map { UnsafePointer($0) },
                                scratch: f.value(scratch)!, threads: f.threads(threads))
    }
}

/// Swin's grid [b, h, w, c] gathered into windows of tokens [windows, t, c] (padded, rolled by -shift).
public struct WindowPartitionCall: KernelCallProtocol {
    public var grid = WindowAttention.Grid(batch: 0, height: 0, width: 0, channels: 0, window: 1, shift: 0, heads: 1)
    public var input = 0, output = 0
    public init(
                grid: WindowAttention.Grid = WindowAttention.Grid(batch: 0, height: 0, width: 0, channels: 0, window: 1, shift: 0, heads: 1),
                input: Int = 0, output: Int = 0) {
        self.grid = grid; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }
    public func run(_ f: Frame) { WindowAttention.partition(grid, input: f.value(input), output: f.value(output)) }
}

/// Attention within each window, from the packed projection qkv [windows, t, 3c] to [windows, t, c],
/// with the relative position bias [heads, t, t] (a constant gathered once) and the shift mask.
public struct WindowAttentionCall: KernelCallProtocol {
    public var grid = WindowAttention.Grid(batch: 0, height: 0, width: 0, channels: 0, window: 1, shift: 0, heads: 1)
    public var qkv = 0, output = 0
    public var scratch: Int? = nil
    public var bias: Int? = nil
    public var threads = 1

    public init(
                grid: WindowAttention.Grid = WindowAttention.Grid(batch: 0, height: 0, width: 0, channels: 0, window: 1, shift: 0, heads: 1),
                qkv: Int = 0, output: Int = 0, scratch: Int? = nil, bias: Int? = nil, threads: Int = 1) {
        self.grid = grid; self.qkv = qkv; self.output = output; self.scratch = scratch; self.bias = bias; self.threads = threads
    }

    public var reads: [Int] { [qkv] }
    public var scratchValue: Int? { scratch }

    public func run(_ f: Frame) {
        WindowAttention.attend(grid, qkv: f.value(qkv), bias: f.constant(bias), out: f.value(output), scratch: f.value(scratch)!,
                               threads: f.threads(threads))
    }
}

/// Windows of tokens [windows, t, c] back onto the grid [b, h, w, c] (rolled by +shift, cropped).
public struct WindowMergeCall: KernelCallProtocol {
    public var grid = WindowAttention.Grid(batch: 0, height: 0, width: 0, channels: 0, window: 1, shift: 0, heads: 1)
    public var input = 0, output = 0
    /// Added to the merged grid as it is written (the block's residual, fused by the fuse pass).
    public var residual: Int? = nil
    public init(
                grid: WindowAttention.Grid = WindowAttention.Grid(batch: 0, height: 0, width: 0, channels: 0, window: 1, shift: 0, heads: 1),
                input: Int = 0, output: Int = 0, residual: Int? = nil) {
        self.grid = grid; self.input = input; self.output = output; self.residual = residual
    }

    public var reads: [Int] { [input] + (residual.map { [$0] } ?? []) }
    public func run(_ f: Frame) {
        WindowAttention.merge(grid, input: f.value(input), residual: residual.map { UnsafePointer(f.value($0)) }, output: f.value(output))
    }
}

/// Rotary position embeddings of q or k (`Rotary`): heads read from a column slice of their value
/// (rows `ld` apart, from `inputOffset`: a packed projection in place, or normalised heads), written
/// to [b, rows, heads dh]; the cos/sin table is a constant made once, its row `start` for each example's first token.
public struct RotaryCall: KernelCallProtocol {
    public var shape = Rotary.Shape(batch: 0, rows: 0, heads: 1, dh: 2)
    public var pairing = Rotary.Pairing.half
    public var input = 0, inputOffset = 0, ld = 0
    public var output = 0
    public var table = 0, start = 0
    public var threads = 1

    public init(shape: Rotary.Shape = Rotary.Shape(batch: 0, rows: 0, heads: 1, dh: 2), pairing: Rotary.Pairing = Rotary.Pairing.half,
                input: Int = 0, inputOffset: Int = 0, ld: Int = 0, output: Int = 0, table: Int = 0, start: Int = 0, threads: Int = 1) {
        self.shape = shape; self.pairing = pairing; self.input = input; self.inputOffset = inputOffset; self.ld = ld
        self.output = output; self.table = table; self.start = start; self.threads = threads
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        Rotary.apply(shape, pairing: pairing, x: f.value(input) + inputOffset, ld: ld, y: f.value(output), table: f.constant(table),
                     first: start, threads: f.threads(threads))
    }
}
