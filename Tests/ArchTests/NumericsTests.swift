import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchIO
@testable import ArchRuntime
import ArchEngine

/// The interpreter against PyTorch: each folder of Fixtures/numerics holds a spec, the library
/// module's state_dict, an input and PyTorch's output (tools/make_fixtures.py). The spec must load
/// the weights unchanged and match within max |diff| <= 1e-4 x max(1, max |ref|).
final class NumericsTests: XCTestCase {
    func runFixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = Support.fixtures.appendingPathComponent("numerics/\(name)")
        let x = try NPY.read(path: dir.appendingPathComponent("input.npy").path)
        let ref = try NPY.read(path: dir.appendingPathComponent("output.npy").path)
        let spec = dir.appendingPathComponent("model.arch").path
        let declared = try XCTUnwrap(Pipeline.compile(path: spec, bindings: [:]).graph)
        // The first input is input.npy; others are NAME.npy.
        var inputs = [declared.inputs[0].name: x]
        for (name, _) in declared.inputs.dropFirst() { inputs[name] = try NPY.read(path: dir.appendingPathComponent("\(name).npy").path) }
        let c = Pipeline.compile(path: spec, bindings: try InputBinding.bindings(for: declared, inputs: inputs))
        XCTAssertTrue(c.succeeded, Support.rendered(c), file: file, line: line)
        let g = try XCTUnwrap(c.graph)
        let weightsPath = dir.appendingPathComponent("weights.safetensors").path
        let bound = WeightStore.bind(g, tensors: try SafeTensors.read(path: weightsPath), file: weightsPath)
        XCTAssertEqual(bound.errors.map(\.description), [], file: file, line: line)
        XCTAssertEqual(bound.warnings, [], "every tensor of the state_dict is used", file: file, line: line)
        let y = try Interpreter(graph: g, weights: XCTUnwrap(bound.store)).run(inputs)
        XCTAssertEqual(y.shape, ref.shape, file: file, line: line)
        let r = ref.floats, o = y.floats
        let scale = max(1, r.map(abs).max() ?? 0)
        let worst = largestDifference(r, o)
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(name): max |diff| \(worst)", file: file, line: line)
    }

    func testMLP() throws { try runFixture("mlp_small") }
    func testResNetBasicAndBottleneckBlocks() throws { try runFixture("resnet_small") }
    func testVisionTransformer() throws { try runFixture("vit_small") }
    func testSwinShiftedWindows() throws { try runFixture("swin_small") }
    func testMLPMixer() throws { try runFixture("mixer_small") }
    func testGatedMLP() throws { try runFixture("gmlp_small") }
    func testBidirectionalLSTM() throws { try runFixture("lstm_small") }
    func testUNetLevel() throws { try runFixture("unet_small") }
    func testMixtureOfExperts() throws { try runFixture("moe_small") }
    func testGPT2CausalWithTiedHead() throws { try runFixture("gpt2_small") }
    func testMobileNetV2() throws { try runFixture("mobilenet_small") }
    func testConvMixer() throws { try runFixture("convmixer_small") }
    func testBERTPostNormWithTokenTypes() throws { try runFixture("bert_small") }
    /// aMLP: the gating unit's tiny attention reads the block's normalised input (`from x`), as in the paper.
    func testAMLPTinyAttentionFromNormalisedInput() throws { try runFixture("amlp_small") }
    /// AlexNet's layout; the adaptive pool takes a 5x3 map to 3x2 by uneven, overlapping windows.
    func testAlexNetAdaptivePool() throws { try runFixture("alexnet_small") }
    /// GPT-2 on sequences of one token: seq bound to 1 from the input, below the 16 positions of the table.
    func testGPT2SingleTokenBatchOfThree() throws { try runFixture("gpt2_short") }

    // Op coverage: between them, these run every op and option that the library networks above leave out
    // (each model.arch lists its own). Plain torch.nn / functional references in tools/make_fixtures.py.
    /// 2-d: rectangular, dilated and grouped convs, 'same' padding, batchnorm folded into a biased conv,
    /// groupnorm, ceil-mode max and average pools, broadcasting mul and add, nearest and bilinear
    /// upsampling, a dilated grouped transposed conv with output padding, adaptive max pooling, concat on
    /// the height, hardswish / silu / sigmoid / tanh / gelu tanh / relu6, global max pooling.
    func testConvPoolUpsampleAndBroadcastOptions() throws { try runFixture("ops_conv_small") }
    /// The same kinds of ops on [batch, channels, length]: 1-d convs (dilated 'same', grouped, strided),
    /// BatchNorm1d folded and unfused, pools, grouped and depthwise transposed convs, 1-d upsampling.
    func testOneDimensionalConvPoolAndUpsample() throws { try runFixture("ops_conv1d_small") }
    /// The prelude's encoder (pre-norm with q/k layernorm; parallel, causal, q/k rmsnorm, no biases) and
    /// decoder (cross-attention to a second input of another length and width); sinusoidal positions.
    func testTransformerBlockVariants() throws { try runFixture("ops_transformer_small") }
    /// Attention layouts and widths, shape ops, softmax along the sequence, swiglu, tanh-approximate vs
    /// exact GELU, a mixture of MLP experts, rmsnorm, the last token, a learned table longer than the input.
    func testTokenOpsAndAttentionLayouts() throws { try runFixture("ops_tokens_small") }
    /// nn.RNN and nn.GRU stacks, both directions, with and without biases; the last step of each kind.
    func testRNNAndGRUAndLastStep() throws { try runFixture("ops_recurrent_small") }
    /// Window attention without a relative position bias on grids the windows do not divide; patch grid;
    /// patch merging of an odd grid; aMLP's gating unit on its own input.
    func testWindowsOnUnevenGrids() throws { try runFixture("ops_window_small") }

    // Issue 10's attention: networks as their reference code writes them, their checkpoints unchanged.
    /// transformers' LlamaForCausalLM from its save_pretrained checkpoint (tied head stored once):
    /// grouped-query heads, rope half at base 500000, RMSNorm, SwiGLU, a right-padded second sequence.
    func testLlamaCheckpointWithPaddingMask() throws { try runFixture("llama_small") }
    /// transformers' BertModel under its own names on a padded batch (attention_mask, token types).
    func testBERTUnderItsOwnNamesWithPaddingMask() throws { try runFixture("bert_masked") }
    /// GQA with GPT-J's interleaved rope and both masks, timm's PVT v2 spatial-reduction attention,
    /// multi-query qk_v with q/k norms and rope half, q_kv, nn.MultiheadAttention across to a memory.
    func testAttentionLayoutsRopeAndMasks() throws { try runFixture("ops_attention_small") }
    /// LayerNorm2d, layer scale, a highway block with a side branch and a second output, arithmetic
    /// with labels, numbers and learned tensors, reductions, unfold, a view folding patches into the
    /// batch and back, fold, rmsnorm over channels, slices and an index.
    func testDataflowAndTensorOps() throws { try runFixture("ops_dataflow_small") }

    // The specs written with the dataflow and tensor ops, at small sizes, against the library modules.
    /// torchvision's DenseNet: dense layers concatenated to their input, computed labels denselayer1...
    func testDenseNet() throws { try runFixture("densenet_small") }
    /// torchvision's ConvNeXt: LayerNorm2d, layer scale, downsampling between stages.
    func testConvNeXt() throws { try runFixture("convnext_small") }
    /// timm's distilled DeiT: two prepended tokens, the mean of the class and distillation heads.
    func testDistilledDeiT() throws { try runFixture("deit_small") }
    /// A highway network: gate, carry and transform as branches.
    func testHighway() throws { try runFixture("highway_small") }

    // Regressions: the smallest specs on which the interpreter once disagreed with PyTorch.
    /// 'pad same' with an even kernel: PyTorch pads the extra row and column at the end.
    func testSamePaddingWithEvenKernel() throws { try runFixture("regress_conv_same_even_kernel") }
    /// nn.RMSNorm without eps uses float32's epsilon (visible on small inputs).
    func testRMSNormDefaultEps() throws { try runFixture("regress_rmsnorm_default_eps") }
    /// q/k layernorm with nn.LayerNorm's eps 1e-5, as timm and `emit torch` build it.
    func testQKLayerNormEps() throws { try runFixture("regress_qknorm_layer_eps") }

    /// Every fixture folder has a test above.
    func testEveryFixtureIsRun() throws {
        let dirs = try FileManager.default.contentsOfDirectory(atPath: Support.fixtures.appendingPathComponent("numerics").path).sorted()
        XCTAssertEqual(dirs, ["alexnet_small", "amlp_small", "bert_masked", "bert_small", "convmixer_small", "convnext_small", "deit_small",
                              "densenet_small", "gmlp_small", "gpt2_short", "gpt2_small", "highway_small", "llama_small", "lstm_small", "mixer_small",
                              "mlp_small", "mobilenet_small", "moe_small", "ops_attention_small", "ops_conv1d_small", "ops_conv_small",
                              "ops_dataflow_small", "ops_recurrent_small", "ops_tokens_small", "ops_transformer_small",
                              "ops_window_small", "regress_conv_same_even_kernel", "regress_qknorm_layer_eps", "regress_rmsnorm_default_eps",
                              "resnet_small", "swin_small", "unet_small", "vit_small"])
    }

    func testWeightErrorsNameTheTensor() throws {
        let c = Support.compile("input x 4\nfc: linear 3\n", bindings: ["batch": 1])
        let g = try XCTUnwrap(c.graph)
        let wrong = WeightStore.bind(g, tensors: [("fc.weight", Tensor(shape: [4, 3], floats: Array(repeating: 0, count: 12))),
                                                  ("extra", Tensor(shape: [1], floats: [0]))], file: "w.safetensors")
        XCTAssertNil(wrong.store)
        XCTAssertEqual(wrong.errors.map(\.message), ["w.safetensors: tensor 'fc.weight' has shape [4, 3] but the spec needs [3, 4]",
                                                     "w.safetensors: missing tensor 'fc.bias' of shape [3]",
                                                     "w.safetensors does not fit the network: 1 tensor missing, 1 mis-shaped; 1 tensor in the file is unused"])
        // When the file does not fit, its unused tensors are in the summary, not in a warning besides.
        XCTAssertEqual(wrong.warnings, [])
        XCTAssertEqual(wrong.errors.last?.notes, ["the file's unused tensors: 'extra' [1]"])
    }

    /// Each missing tensor once, the closest unused name in the file as a note, and a summary line
    /// (a checkpoint that called layer_scale 'gamma' gave 18 bare "missing tensor" errors).
    func testMissingTensorsGetNearMatchesAndASummary() {
        func spec(_ name: String, _ shape: [Int]) -> ParameterSpec { ParameterSpec(name: name, shape: shape, isInteger: false, declaredAt: "s.arch:3:1") }
        func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, floats: Array(repeating: 0, count: shape.reduce(1, *))) }
        let specs = [spec("stages.0.blocks.0.layer_scale", [96, 1, 1]), spec("stages.0.blocks.0.layer_scale", [96, 1, 1]),
                     spec("head.weight", [10, 96]), spec("head.bias", [10]), spec("norm.weight", [96])]
        let file: [(name: String, tensor: Tensor)] = [("stages.0.blocks.0.gamma", zeros([96])), ("stages.0.blocks.0.conv.weight", zeros([96, 96])),
                                                      ("model.head.weight", zeros([10, 96])), ("head.bias", zeros([10])), ("pos_embed", zeros([96]))]
        let r = ParameterBinding.bind(specs, tensors: file, file: "w.safetensors")
        XCTAssertEqual(r.errors.map(\.description), [
            "error: w.safetensors: missing tensor 'stages.0.blocks.0.layer_scale' of shape [96, 1, 1]\nnote: declared by the layer at s.arch:3:1\n"
                + "note: the file has 'stages.0.blocks.0.gamma' [96], which the network does not use: is it this tensor?",
            "error: w.safetensors: missing tensor 'head.weight' of shape [10, 96]\nnote: declared by the layer at s.arch:3:1\n"
                + "note: the file has 'model.head.weight' [10, 96], which the network does not use: is it this tensor?",
            "error: w.safetensors: missing tensor 'norm.weight' of shape [96]\nnote: declared by the layer at s.arch:3:1",
            "error: w.safetensors does not fit the network: 3 tensors missing, 0 mis-shaped; 4 tensors in the file are unused\n"
                + "note: the file's other unused tensors: 'stages.0.blocks.0.conv.weight' [96, 96], 'pos_embed' [96]",
        ])
    }

    /// init writes PyTorch-style weights that run: deterministic for a seed, names of the spec.
    func testInitIsDeterministic() throws {
        let g = try XCTUnwrap(Support.compileSpec("mlp.arch").graph)
        let a = Initializer.tensors(for: g, seed: 7), b = Initializer.tensors(for: g, seed: 7)
        XCTAssertEqual(a.map(\.name), ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        XCTAssertEqual(a.map(\.tensor), b.map(\.tensor))
        let w = a[0].tensor.floats
        let bound = 1 / Float(1024).squareRoot()
        XCTAssertLessThanOrEqual(w.map(abs).max()!, bound)
        XCTAssertGreaterThan(w.map(abs).max()!, bound * 0.99, "uniform over the whole +-1/sqrt(fan_in) range")
    }
}
