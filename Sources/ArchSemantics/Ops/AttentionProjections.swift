/// The parameter layout of an attention's projections: which of q, k and v share a weight tensor, and
/// what each tensor is called (`qkv packed|fused|separate|q_kv|qk_v`, `names ...`). The op's rule
/// declares the parameters from it, lowering finds them by it and `emit torch` builds the same
/// modules, so the three agree on every name.
public struct AttentionProjections: Sendable, Equatable {
    public enum Part: String, Sendable { case q, k, v }

    /// One weight tensor (and its bias): the projections it holds, one after the other.
    public struct Group: Sendable, Equatable {
        public var name: String
        public var parts: [Part]
    }

    public static let layouts = ["packed", "fused", "separate", "q_kv", "qk_v"]

    /// The layout used: as written, except that `packed` without names becomes `separate` when keys and
    /// values come from another tensor (cross-attention: q_proj, k_proj, v_proj, out_proj).
    public var layout: String
    public var groups: [Group]
    /// The output projection.
    public var output: String

    /// nn.MultiheadAttention's in-projection is a bare tensor: `in_proj_weight`, not `in_proj.weight`.
    public var bare: Bool { layout == "fused" }
    public func weight(_ g: Group) -> String { g.name + (bare ? "_weight" : ".weight") }
    public func bias(_ g: Group) -> String { g.name + (bare ? "_bias" : ".bias") }

    static func parts(_ layout: String) -> [[Part]] {
        switch layout {
        case "separate": return [[.q], [.k], [.v]]
        case "q_kv": return [[.q], [.k, .v]]
        case "qk_v": return [[.q, .k], [.v]]
        default: return [[.q, .k, .v]]
        }
    }

    /// The names each layout has unless `names` gives others: timm's, nn.MultiheadAttention's, PVT's, TNT's.
    public static func defaultNames(_ layout: String) -> [String] {
        switch layout {
        case "fused": return ["in_proj", "out_proj"]
        case "separate": return ["q_proj", "k_proj", "v_proj", "out_proj"]
        case "q_kv": return ["q", "kv", "proj"]
        case "qk_v": return ["qk", "v", "proj"]
        default: return ["qkv", "proj"]
        }
    }

    /// What the names of a layout stand for, in order: `q+k+v, output`.
    static func roles(_ layout: String) -> String {
        (parts(layout).map { $0.map(\.rawValue).joined(separator: "+") } + ["output"]).joined(separator: ", ")
    }

    /// The projections of `layout` named by `names` (or the layout's defaults); `cross` names the
    /// option (`memory`, `queries`) that makes keys and values come from another tensor than the queries.
    public init(layout written: String, names: [String]?, cross: String? = nil) throws {
        var layout = written
        if let cross, layout == "packed" {
            guard names == nil else {
                throw OpError("qkv packed projects q, k and v of one tensor together, but with '\(cross)' they come from two",
                              notes: [.init("name the projections of 'qkv separate' (q, k, v, output) or 'qkv q_kv' (q, k+v, output)")],
                              argument: "names", showsInput: false)
            }
            layout = "separate"
        }
        if let cross, layout == "qk_v" {
            throw OpError("qkv qk_v projects q and k together, but with '\(cross)' they come from two tensors",
                          notes: [.init("use 'qkv q_kv' (PVT's q and kv) or 'qkv separate'")], argument: "qkv", showsInput: false)
        }
        let parts = Self.parts(layout), names = names ?? Self.defaultNames(layout)
        guard names.count == parts.count + 1 else {
            throw OpError("qkv \(layout) has \(parts.count + 1) projections (\(Self.roles(layout))), but 'names' lists \(names.count)",
                          notes: [.init("for example: names \(Self.defaultNames(layout).joined(separator: " ")) (the default)")],
                          argument: "names", showsInput: false)
        }
        if let twice = names.enumerated().first(where: { names[..<$0.offset].contains($0.element) })?.element {
            throw OpError("'names' lists '\(twice)' twice; each projection needs its own name", argument: "names", showsInput: false)
        }
        self.layout = layout
        self.groups = zip(names, parts).map { Group(name: $0, parts: $1) }
        self.output = names[names.count - 1]
    }
}
