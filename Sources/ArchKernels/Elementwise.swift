import Foundation

/// Normalisation, activations and softmax on contiguous float buffers.
public enum Elementwise {
    public static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }
    public static func geluTanh(_ x: Float) -> Float {
        0.5 * x * (1 + tanhf(0.7978845608 * (x + 0.044715 * x * x * x)))
    }
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    public static func apply(_ name: String, approx: String?, _ data: inout [Float]) {
        switch name {
        case "relu": for i in data.indices { data[i] = max(data[i], 0) }
        case "relu6": for i in data.indices { data[i] = min(max(data[i], 0), 6) }
        case "gelu":
            if approx == "tanh" { for i in data.indices { data[i] = geluTanh(data[i]) } } else { for i in data.indices { data[i] = gelu(data[i]) } }
        case "silu": for i in data.indices { data[i] = data[i] * sigmoid(data[i]) }
        case "sigmoid": for i in data.indices { data[i] = sigmoid(data[i]) }
        case "tanh": for i in data.indices { data[i] = tanhf(data[i]) }
        case "hardswish": for i in data.indices { let x = data[i]; data[i] = x * min(max(x + 3, 0), 6) / 6 }
        default: break
        }
    }

    /// Normalise each row of `width` values: (x - mean) / sqrt(var + eps) * weight + bias (LayerNorm),
    /// or x / sqrt(mean(x^2) + eps) * weight (RMSNorm).
    public static func normalizeRows(_ data: inout [Float], width: Int, eps: Float, weight: [Float]?, bias: [Float]?, rms: Bool = false) {
        let rows = data.count / width
        data.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * width
                var mean: Double = 0
                if !rms { for j in 0..<width { mean += Double(row[j]) }; mean /= Double(width) }
                var variance: Double = 0
                for j in 0..<width { let d = Double(row[j]) - mean; variance += d * d }
                variance /= Double(width)
                let inv = Float(1 / (variance + Double(eps)).squareRoot())
                let m = Float(mean)
                for j in 0..<width {
                    var v = (row[j] - m) * inv
                    if let weight { v *= weight[j] }
                    if let bias { v += bias[j] }
                    row[j] = v
                }
            }
        }
    }

    /// Softmax over rows of `width`, numerically stable.
    public static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let row = p + r * width
            var m = -Float.infinity
            for j in 0..<width { m = max(m, row[j]) }
            var s: Float = 0
            for j in 0..<width { let e = expf(row[j] - m); row[j] = e; s += e }
            let inv = 1 / s
            for j in 0..<width { row[j] *= inv }
        }
    }
}
