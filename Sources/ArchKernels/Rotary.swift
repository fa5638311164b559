import Foundation

/// Rotary position embeddings (RoFormer, Su et al. 2021): each pair of a head's features is turned by
/// the angle position x theta_i, theta_i = base^(-2i / dh), i < dh / 2. Two pairings are in use:
/// `half` pairs feature i with i + dh / 2 (transformers' `rotate_half`: LLaMA, Mistral, Qwen);
/// `interleaved` pairs 2i with 2i + 1 (GPT-J, the original RoFormer).
public enum Rotary {
    public enum Pairing: String, Sendable, Hashable { case half, interleaved }

    /// The table [positions, dh]: for each position (from `start`), the cosines of its dh / 2 angles,
    /// then their sines. The angles are computed as transformers computes them, in float32:
    /// inv_freq = 1 / base^(2i / dh), angle = position x inv_freq.
    public static func table(positions: Int, start: Int, width dh: Int, base: Double, into out: UnsafeMutablePointer<Float>) {
        let half = dh / 2
        for i in 0..<half {
            let inverse = 1 / powf(Float(base), Float(2 * i) / Float(dh))
            for r in 0..<positions {
                let angle = Double(Float(start + r) * inverse)
                out[r * dh + i] = Float(cos(angle))
                out[r * dh + half + i] = Float(sin(angle))
            }
        }
    }

    /// Sizes of one rotation: `rows` tokens of `heads` heads of width `dh`, per example.
    public struct Shape: Sendable, Equatable {
        public var batch: Int, rows: Int, heads: Int, dh: Int
        public init(batch: Int, rows: Int, heads: Int, dh: Int) {
            self.batch = batch; self.rows = rows; self.heads = heads; self.dh = dh
        }
    }

    /// x [batch, rows, heads dh] (rows `ld` apart) turned into y [batch, rows, heads dh]; row r of
    /// every example is at position `table` row `first + r`.
    public static func apply(_ s: Shape, pairing: Pairing, x: UnsafePointer<Float>, ld: Int, y: UnsafeMutablePointer<Float>,
                             table: UnsafePointer<Float>, first: Int, threads: Int) {
        let half = s.dh / 2, width = s.heads * s.dh
        Parallel.forEach(s.batch * s.rows, threads: threads) { t, _ in
            let c = table + (first + t % s.rows) * s.dh, sn = c + half
            let src = x + t * ld, dst = y + t * width
            for h in 0..<s.heads {
                let a = src + h * s.dh, o = dst + h * s.dh
                switch pairing {
                case .half:
                    for i in 0..<half {
                        let (x1, x2) = (a[i], a[i + half])
                        o[i] = x1 * c[i] - x2 * sn[i]
                        o[i + half] = x2 * c[i] + x1 * sn[i]
                    }
                case .interleaved:
                    for i in 0..<half {
                        let (x1, x2) = (a[2 * i], a[2 * i + 1])
                        o[2 * i] = x1 * c[i] - x2 * sn[i]
                        o[2 * i + 1] = x2 * c[i] + x1 * sn[i]
                    }
                }
            }
        }
    }
}
