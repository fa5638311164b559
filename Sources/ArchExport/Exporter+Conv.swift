import ArchSemantics
import ArchIR

/// Convolutions, patch embedding, pooling and resampling on [batch, channels, spatial...] tensors
/// (1-d and 2-d, as ONNX's ops take either).
extension Exporter {
    /// The convolution's window: kernel, stride, dilation, padding at the start and the end of each
    /// spatial axis (`pad same`: d (k - 1) / 2 first, the rest at the end, as PyTorch pads), groups.
    func convAttributes(_ n: Graph.Node) throws -> [AttributeProto] {
        let spatial = shape(n.inputs[0]).count - 2
        let k = n.sizes("kernel", spatial, default: 1), s = n.sizes("stride", spatial, default: 1)
        let d = n.sizes("dilation", spatial, default: 1)
        let begin = n.word("pad") == "same" ? (0..<spatial).map { d[$0] * (k[$0] - 1) / 2 } : n.sizes("pad", spatial, default: 0)
        let end = n.word("pad") == "same" ? (0..<spatial).map { d[$0] * (k[$0] - 1) - begin[$0] } : begin
        let groups = n.word("groups") == "depthwise" ? try channels(n, axis: 1) : (n.int("groups") ?? 1)
        return [.ints("kernel_shape", k), .ints("strides", s), .ints("dilations", d), .ints("pads", begin + end), .i("group", groups)]
    }

    mutating func conv(_ n: Graph.Node) throws {
        let inputs = [try input(n), try required("weight")] + (param("bias").map { [$0] } ?? [])
        b.op("Conv", inputs, try convAttributes(n), out: out)
    }

    mutating func convTranspose(_ n: Graph.Node) throws {
        let spatial = shape(n.inputs[0]).count - 2
        var attributes = try convAttributes(n)
        attributes.append(.ints("output_padding", n.sizes("outpad", spatial, default: 0)))
        let inputs = [try input(n), try required("weight")] + (param("bias").map { [$0] } ?? [])
        b.op("ConvTranspose", inputs, attributes, out: out)
    }

    /// A convolution with kernel = stride = the patch, then the grid as tokens [b, patches, dim]
    /// (or kept as [b, h, w, dim]).
    mutating func patch(_ n: Graph.Node) throws {
        let p = n.sizes("size", 2, default: 1)
        let inputs = [try input(n), try required("weight")] + (param("bias").map { [$0] } ?? [])
        let grid = b.op("Conv", inputs, [.ints("kernel_shape", p), .ints("strides", p)])
        if n.bool("grid") {
            transpose(grid, [0, 2, 3, 1], out: out)
        } else {
            transpose(reshape(grid, [0, 0, -1]), [0, 2, 1], out: out)
        }
    }

    /// Max or average pooling; the average counts the zero padding (PyTorch's count_include_pad).
    mutating func pool(_ n: Graph.Node) throws {
        let spatial = shape(n.inputs[0]).count - 2
        let k = n.sizes("kernel", spatial, default: 1)
        let s = n.args["stride"] == nil ? k : n.sizes("stride", spatial, default: 1)
        let pad = n.sizes("pad", spatial, default: 0)
        var attributes: [AttributeProto] = [.ints("kernel_shape", k), .ints("strides", s), .ints("pads", pad + pad),
                                            .i("ceil_mode", n.bool("ceil") ? 1 : 0)]
        if n.op == .avgpool { attributes.append(.i("count_include_pad", 1)) }
        b.op(n.op == .maxpool ? "MaxPool" : "AveragePool", [try input(n)], attributes, out: out)
    }

    /// Adaptive pooling: a global pool to 1 x 1, a plain pool when the sizes divide, else each
    /// spatial axis on its own (windows [o in / out, ceil((o + 1) in / out)), reduced and
    /// concatenated: a mean of equal-width means is the mean over the rectangle).
    mutating func adaptivePool(_ n: Graph.Node) throws {
        let isMax = n.op == .adaptive_maxpool
        let spatial = shape(n.inputs[0]).count - 2
        let size = try known(n.output, "the output size", from: 2)
        if size.allSatisfy({ $0 == 1 }) {
            b.op(isMax ? "GlobalMaxPool" : "GlobalAveragePool", [try input(n)], out: out)
            return
        }
        let sizes = Array(try known(n.inputs[0], "the spatial sizes", from: 2))
        if zip(sizes, size).allSatisfy({ $0 % $1 == 0 }) {
            let k = zip(sizes, size).map { $0 / $1 }
            b.op(isMax ? "MaxPool" : "AveragePool", [try input(n)], [.ints("kernel_shape", k), .ints("strides", k)], out: out)
            return
        }
        var x = try input(n)
        let axes = (0..<spatial).filter { sizes[$0] != size[$0] }
        for (j, a) in axes.enumerated() {
            let (len, o) = (sizes[a], size[a]), axis = a + 2
            var pieces: [String] = []
            for i in 0..<o {
                let window = b.op("Slice", [x, b.ints([i * len / o]), b.ints([((i + 1) * len + o - 1) / o]), b.ints([axis])])
                pieces.append(b.op(isMax ? "ReduceMax" : "ReduceMean", [window, b.ints([axis])], [.i("keepdims", 1)]))
            }
            x = b.op("Concat", pieces, [.i("axis", axis)], out: j == axes.count - 1 ? out : nil)
        }
    }

    mutating func globalPool(_ n: Graph.Node) throws {
        let isMax = n.word("mode") == "max"
        let pooled = b.op(isMax ? "GlobalMaxPool" : "GlobalAveragePool", [try input(n)], out: n.bool("keep") ? out : nil)
        if !n.bool("keep") { b.op("Flatten", [pooled], [.i("axis", 1)], out: out) }
    }

    /// Nearest (the source pixel floor(o / scale)) or bilinear (PyTorch's align_corners=False) upsampling.
    mutating func upsample(_ n: Graph.Node) throws {
        let spatial = shape(n.inputs[0]).count - 2, scale = Float(try arg(n.int("scale"), "scale"))
        let scales = b.floats([1, 1] + Array(repeating: scale, count: spatial), dims: [spatial + 2], name: "scales")
        let attributes: [AttributeProto] = n.word("mode") == "bilinear"
            ? [.s("mode", "linear"), .s("coordinate_transformation_mode", "pytorch_half_pixel")]
            : [.s("mode", "nearest"), .s("coordinate_transformation_mode", "asymmetric"), .s("nearest_mode", "floor")]
        b.op("Resize", [try input(n), "", scales], attributes, out: out)
    }
}
