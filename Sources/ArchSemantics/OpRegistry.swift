/// The closed set of ops, looked up by name.
public enum OpRegistry {
    public static let all: [OpSpec] =
        OpSpec.dense + OpSpec.convolution + OpSpec.normalization + OpSpec.activations +
        OpSpec.tensorOps + OpSpec.indexingOps + OpSpec.blockOps + OpSpec.attentionOps + OpSpec.recurrentOps + OpSpec.arithmeticOps + OpSpec.combining

    static let byName: [String: OpSpec] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    /// Other spellings users reach for, mapped to the op's name. `norm layer` -> `layernorm`.
    public static let aliases: [String: String] = [
        "swish": "silu", "dense": "linear", "fc": "linear", "embedding": "embed",
        "conv1d": "conv", "conv2d": "conv", "deconv": "convt", "convtranspose": "convt",
        "layer_norm": "layernorm", "batch_norm": "batchnorm", "ln": "layernorm", "bn": "batchnorm",
        "ffn": "mlp", "group": "seq", "sequential": "seq", "scale": "mul", "subtract": "sub", "divide": "div", "multiply": "mul",
    ]

    /// `norm KIND` dispatches on its first argument.
    public static let normKinds: [String: String] = ["layer": "layernorm", "batch": "batchnorm", "rms": "rmsnorm", "group": "groupnorm"]

    public static func op(named name: String) -> OpSpec? {
        byName[name] ?? aliases[name].flatMap { byName[$0] }
    }

    public static var names: [String] { all.map(\.name) + ["norm"] }
}
