import ArchSyntax

/// Blocks every spec can use, written in the language itself. A spec may define a block of the
/// same name to replace one (for example to match a checkpoint's parameter names).
public enum Prelude {
    public static let source = """
    # Transformer encoder layer (timm names: norm1, attn, norm2, mlp).
    #   norm pre:      x + attn(norm1 x), then x + mlp(norm2 x)          (ViT, GPT-2)
    #   norm post:     norm1(x + attn x), then norm2(x + mlp x)          (BERT, the original Transformer)
    #   norm parallel: x + attn(norm1 x) + mlp(norm1 x)                  (ViT-22B, PaLM)
    block encoder(heads, mlp = dim * 4, norm = pre, bias = on, qknorm = off, causal = off, act = gelu, eps = 0.00001) {
      if norm == pre {
        residual {
          norm1: layernorm eps eps bias bias
          attn: attention heads heads bias bias qknorm qknorm causal causal
        }
        residual {
          norm2: layernorm eps eps bias bias
          mlp: mlp mlp act act
        }
      } else if norm == post {
        residual { attn: attention heads heads bias bias qknorm qknorm causal causal }
        norm1: layernorm eps eps bias bias
        residual { mlp: mlp mlp act act }
        norm2: layernorm eps eps bias bias
      } else if norm == parallel {
        residual {
          norm1: layernorm eps eps bias bias
          parallel add {
            attn: attention heads heads bias bias qknorm qknorm causal causal
            mlp: mlp mlp act act
          }
        }
      } else {
        norm_must_be_pre_post_or_parallel
      }
    }

    # Decoder layer: causal self-attention, optional cross-attention to `memory`, MLP; pre-norm.
    block decoder(heads, mlp = dim * 4, memory = off, bias = on, act = gelu, eps = 0.00001) {
      residual {
        norm1: layernorm eps eps bias bias
        attn: attention heads heads bias bias causal
      }
      if memory != off {
        residual {
          norm_cross: layernorm eps eps bias bias
          cross_attn: attention heads heads bias bias qkv separate memory memory
        }
      }
      residual {
        norm2: layernorm eps eps bias bias
        mlp: mlp mlp act act
      }
    }
    """

    public static let file = SourceFile(path: "<prelude>", text: source)

    /// Parsed once; the prelude is part of the compiler and must parse cleanly.
    public static let blocks: [BlockDecl] = {
        let diags = DiagnosticEngine()
        let unit = Parser.parse(file, diags: diags)
        precondition(!diags.hasErrors, "the prelude does not parse: \(diags.diagnostics.map(\.message))")
        return unit.stmts.compactMap { if case .block(let b) = $0 { return b } else { return nil } }
    }()
}
