/// Nodes with one data input, op by op.
extension ONNXImport {
    mutating func layer(_ n: NodeProto, _ x: String) throws -> (String, String)? {
        switch n.opType {
        case "Conv", "ConvTranspose": return (try conv(n), x)
        case "Gemm": return try gemm(n)
        case "MatMul":
            guard let w = n.inputs.last, constants[w] != nil else { throw unsupported(n, "multiplies by a tensor that is not a weight") }
            return try linear(n, weight: w, bias: nil, transposed: true)
        case "BatchNormalization": return (try batchnorm(n), x)
        case "LayerNormalization": return (try layernorm(n), x)
        case "Relu": return ("relu", x)
        case "Sigmoid": return ("sigmoid", x)
        case "Tanh": return ("tanh", x)
        case "HardSwish": return ("hardswish", x)
        case "Gelu": return (attribute(n, "approximate") == .string("tanh") ? "gelu tanh" : "gelu", x)
        case "Clip":
            let (lo, hi) = (constant(n.inputs.count > 1 ? n.inputs[1] : nil)?.first, constant(n.inputs.count > 2 ? n.inputs[2] : nil)?.first)
            guard lo == 0, hi == 6 else { throw unsupported(n, "clips to [\(lo.map { "\($0)" } ?? "-inf"), \(hi.map { "\($0)" } ?? "inf")]; archc has relu6") }
            return ("relu6", x)
        case "Softmax": return ("softmax dim \(int(n, "axis", -1))", x)
        case "MaxPool", "AveragePool": return (try pool(n), x)
        case "GlobalAveragePool": return ("globalpool keep", x)
        case "GlobalMaxPool": return ("globalpool max keep", x)
        case "Flatten":
            guard int(n, "axis", 1) == 1 else { throw unsupported(n, "flattens from axis \(int(n, "axis", 1)); archc's flatten keeps the batch") }
            return ("flatten", x)
        case "Reshape": return (try reshape(n), x)
        case "Transpose":
            guard let perm = ints(n, "perm") else { throw unsupported(n, "has no perm") }
            return ("permute " + perm.map(String.init).joined(separator: " "), x)
        case "Dropout": return ("dropout \(constant(n.inputs.count > 1 ? n.inputs[1] : nil)?.first ?? float(n, "ratio", 0.5))", x)
        case "Identity": return ("identity", x)
        case "Resize": return (try resize(n), x)
        case "Add", "Sub", "Mul", "Div": return (try numberOperand(n), x)
        case "ReduceSum", "ReduceMean", "ReduceMax": return (try reduction(n), x)
        case "Slice": return (try slice(n), x)
        case "Gather": return (try gather(n), x)
        case "Sum", "Concat": throw unsupported(n, "joins one tensor here")
        case "Erf": throw unsupported(n, "applies a constant here; archc has no such layer")
        default: throw unsupported(n, "has no archc counterpart")
        }
    }

    mutating func conv(_ n: NodeProto) throws -> String {
        guard n.inputs.count >= 2, let w = constants[n.inputs[1]], w.dims.count >= 3 else { throw unsupported(n, "has no constant weight") }
        let spatial = w.dims.count - 2, label = label(n, weight: n.inputs[1])
        let kernel = w.dims.dropFirst(2).map(Int.init), groups = int(n, "group", 1)
        let stride = ints(n, "strides") ?? Array(repeating: 1, count: spatial), dilation = ints(n, "dilations") ?? Array(repeating: 1, count: spatial)
        let out = n.opType == "Conv" ? Int(w.dims[0]) : Int(w.dims[1]) * groups
        var line = "\(label): \(n.opType == "Conv" ? "conv" : "convt") \(Self.size(kernel)) \(out)"
        if stride.contains(where: { $0 != 1 }) { line += " stride \(Self.size(stride))" }
        let pad = try pads(n, spatial: spatial)
        if pad.contains(where: { $0 != 0 }) { line += " pad \(Self.size(pad))" }
        if let outpad = ints(n, "output_padding"), outpad.contains(where: { $0 != 0 }) { line += " outpad \(Self.size(outpad))" }
        if dilation.contains(where: { $0 != 1 }) { line += " dilation \(Self.size(dilation))" }
        if groups != 1 { line += " groups \(groups)" }
        try keep(label, "weight", n.inputs[1])
        if n.inputs.count > 2, !n.inputs[2].isEmpty { try keep(label, "bias", n.inputs[2]) } else { line += " bias off" }
        return line
    }

    mutating func gemm(_ n: NodeProto) throws -> (String, String) {
        guard int(n, "transA", 0) == 0, float(n, "alpha", 1) == 1, float(n, "beta", 1) == 1, n.inputs.count >= 2, constants[n.inputs[1]] != nil else {
            throw unsupported(n, "is not x Wᵀ + b with a constant weight")
        }
        let bias = n.inputs.count > 2 && !n.inputs[2].isEmpty ? n.inputs[2] : nil
        return try linear(n, weight: n.inputs[1], bias: bias, transposed: int(n, "transB", 0) == 0)
    }

    mutating func batchnorm(_ n: NodeProto) throws -> String {
        guard n.inputs.count == 5, n.outputs.count == 1 || n.outputs.dropFirst().allSatisfy(\.isEmpty) else { throw unsupported(n, "is in training mode") }
        let label = label(n, weight: n.inputs[1])
        for (suffix, k) in [("weight", 1), ("bias", 2), ("running_mean", 3), ("running_var", 4)] { try keep(label, suffix, n.inputs[k]) }
        return "\(label): batchnorm eps \(float(n, "epsilon", 1e-5))"
    }

    mutating func layernorm(_ n: NodeProto) throws -> String {
        guard int(n, "axis", -1) == -1 else {
            throw unsupported(n, "normalises from axis \(int(n, "axis", -1)); archc's layernorm normalises the last dimension")
        }
        let label = label(n, weight: n.inputs[1])
        try keep(label, "weight", n.inputs[1])
        let bias = n.inputs.count > 2 && !n.inputs[2].isEmpty
        if bias { try keep(label, "bias", n.inputs[2]) }
        return "\(label): layernorm eps \(float(n, "epsilon", 1e-5))" + (bias ? "" : " bias off")
    }

    func pool(_ n: NodeProto) throws -> String {
        guard let kernel = ints(n, "kernel_shape") else { throw unsupported(n, "has no kernel_shape") }
        let spatial = kernel.count, stride = ints(n, "strides") ?? Array(repeating: 1, count: spatial), pad = try pads(n, spatial: spatial)
        if n.opType == "AveragePool", pad.contains(where: { $0 != 0 }), int(n, "count_include_pad", 0) == 0 {
            throw unsupported(n, "leaves the padding out of its averages; archc counts it, as PyTorch does by default")
        }
        guard (ints(n, "dilations") ?? []).allSatisfy({ $0 == 1 }) else { throw unsupported(n, "is dilated") }
        var line = "\(n.opType == "MaxPool" ? "maxpool" : "avgpool") \(Self.size(kernel))"
        if stride != kernel { line += " stride \(Self.size(stride))" }
        if pad.contains(where: { $0 != 0 }) { line += " pad \(Self.size(pad))" }
        if int(n, "ceil_mode", 0) == 1 { line += " ceil" }
        return line
    }

    /// A reshape to a constant shape that keeps the batch (0 or -1 first).
    func reshape(_ n: NodeProto) throws -> String {
        guard let shape = constant(n.inputs.count > 1 ? n.inputs[1] : nil)?.map({ Int($0) }), let first = shape.first,
              first == 0 || first == -1, shape.count > 1, shape.dropFirst().allSatisfy({ $0 > 0 || $0 == -1 }) else {
            throw unsupported(n, "reshapes to a shape computed at run time or one that moves the batch")
        }
        return "reshape " + shape.dropFirst().map(String.init).joined(separator: "x")
    }

    /// Nearest (floor) or bilinear (half pixel) upsampling by one integer factor.
    func resize(_ n: NodeProto) throws -> String {
        guard let scales = constant(n.inputs.count > 2 ? n.inputs[2] : nil), scales.count >= 3, scales[0] == 1, scales[1] == 1,
              let s = scales.last, s >= 1, s == s.rounded(), scales.dropFirst(2).allSatisfy({ $0 == s }) else {
            throw unsupported(n, "resizes by other than one whole factor on every spatial axis")
        }
        let mode = attribute(n, "mode").flatMap { if case .string(let m) = $0 { return m } else { return nil } } ?? "nearest"
        let coordinates = attribute(n, "coordinate_transformation_mode").flatMap { if case .string(let m) = $0 { return m } else { return nil } } ?? "half_pixel"
        let rounding = attribute(n, "nearest_mode").flatMap { if case .string(let m) = $0 { return m } else { return nil } } ?? "round_prefer_floor"
        switch (mode, coordinates) {
        case ("nearest", "asymmetric") where rounding == "floor": return "upsample \(Int(s))"
        case ("linear", "half_pixel"), ("linear", "pytorch_half_pixel"): return "upsample \(Int(s)) mode bilinear"
        default: throw unsupported(n, "resizes with mode \(mode) and \(coordinates) coordinates; archc's upsample is nearest (asymmetric) or bilinear (half pixel)")
        }
    }

    func axis(_ n: NodeProto) throws -> Int { int(n, "axis", 1) }
}
