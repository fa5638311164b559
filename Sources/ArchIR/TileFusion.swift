import ArchKernels

/// Fuses chains of steps that should run tile by tile so the tensor between them stays in cache
/// (a scheduling decision, made once weights are prepared): MobileNetV2's inverted residual, a 1x1
/// expansion, a 3x3 depthwise convolution and a 1x1 projection (with or without the expansion),
/// becomes one `InvertedResidualCall` that computes the expanded tensor one band of rows at a time.
public enum TileFusion {
    public static let name = "tile"

    public static func run(_ program: Program) -> Program {
        var p = program
        var removed = Set<Int>()
        for chain in chains(p, scheduled: true) {
            let call = fused(chain.expand?.call, chain.depthwise.call, chain.project.call, threads: p.threads, scratch: &p)
            var step = Program.Step(.invertedResidual(call), node: 0)
            step.nodes = (chain.expand.map { p.steps[$0.step].nodes } ?? []) + p.steps[chain.depthwise.step].nodes
                + p.steps[chain.project.step].nodes
            p.steps[chain.project.step] = step
            removed.insert(chain.depthwise.step)
            if let e = chain.expand { removed.insert(e.step) }
        }
        p.steps = p.steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        p.passes.append(name)
        return p
    }

    /// A convolution of a chain: its step's index and its call.
    struct Part { let step: Int, call: ConvCall }
    struct Chain { let expand: Part?, depthwise: Part, project: Part }

    /// The chains this pass fuses: a 1x1 projection (no activation) of a 3x3 depthwise convolution
    /// that only it reads, with the 1x1 expansion before it if only the depthwise convolution reads
    /// that. `scheduled`: the algorithms the fused kernel runs its parts by (the pointwise GEMM, the
    /// depthwise kernel) are chosen; before the schedule, the shapes alone, so that it can choose
    /// them (`Schedule`: a 1x1 on a 7x7 map would otherwise take the positions-as-rows GEMM, and
    /// MobileNetV2's last block went unfused).
    static func chains(_ p: Program, scheduled: Bool) -> [Chain] {
        var readers = [Int](repeating: 0, count: p.values.count)
        var producer = [Int?](repeating: nil, count: p.values.count)
        for (i, s) in p.steps.enumerated() {
            for v in Set(s.reads) { readers[v] += 1 }
            producer[s.output] = i
        }
        readers[p.output] += 1
        func pointwise(_ c: ConvCall) -> Bool { c.geometry.isPointwise && (!scheduled || c.algorithm == .pointwise) }
        func depthwise3x3(_ c: ConvCall) -> Bool { InvertedResidual.computesDepthwise(c.geometry) && c.residual == nil && (!scheduled || c.algorithm == .depthwise) }
        var found: [Chain] = []
        for (i, s) in p.steps.enumerated() {
            guard case .conv(let project) = s.kind, pointwise(project), project.activation == .none,
                  let d = producer[project.input], readers[project.input] == 1, case .conv(let depthwise) = p.steps[d].kind,
                  depthwise3x3(depthwise), depthwise.batch == project.batch else { continue }
            var expand: Part? = nil
            if let x = producer[depthwise.input], readers[depthwise.input] == 1, case .conv(let c) = p.steps[x].kind, pointwise(c),
               c.residual == nil, c.batch == project.batch {
                expand = Part(step: x, call: c)
            }
            found.append(Chain(expand: expand, depthwise: Part(step: d, call: depthwise), project: Part(step: i, call: project)))
        }
        return found
    }

    /// The one call for the chain, its weights the ones the prepare pass made for each convolution.
    static func fused(_ expand: ConvCall?, _ depthwise: ConvCall, _ project: ConvCall, threads: Int, scratch p: inout Program) -> InvertedResidualCall {
        let g = depthwise.geometry
        let input = expand?.input ?? depthwise.input, inChannels = expand?.geometry.inChannels ?? g.inChannels
        let rows = InvertedResidual.Shape.bandRows(hidden: g.inChannels, width: g.inW, stride: g.strideH, outHeight: g.outH, outWidth: g.outW,
                                                         threads: threads)
        let shape = InvertedResidual.Shape(inChannels: inChannels, hidden: g.inChannels, outChannels: project.geometry.outChannels,
                                           height: g.inH, width: g.inW, stride: g.strideH, outHeight: g.outH, outWidth: g.outW, bandRows: rows)
        return InvertedResidualCall(batch: project.batch, shape: shape, expandWeight: expand?.weight, expandBias: expand?.bias,
                                    expandActivation: expand?.activation ?? .none, depthwiseWeight: depthwise.weight,
                                    depthwiseBias: depthwise.bias, depthwiseActivation: depthwise.activation, projectWeight: project.weight,
                                    projectBias: project.bias, residual: project.residual, input: input, output: project.output,
                                    scratch: p.addValue([InvertedResidual.scratchCount(shape, batch: project.batch, threads: threads)], scratch: true),
                                    threads: threads)
    }
}
