import Foundation
import XCTest
@testable import ArchDriver
import ArchSemantics

/// `archc params --train`'s figures against PyTorch. Every expected number is PyTorch's own, measured by
/// `tools/check_train_memory.py` (one training forward pass under saved_tensors_hooks, each storage
/// once by data_ptr, parameters and buffers left out; dropout as the fused kernel's bool mask, recurrent
/// layers without oneDNN), or counted from the module's parameters and torch.optim's state.
final class TrainingMemoryTests: XCTestCase {
    func memory(_ path: String, _ bindings: [String: Int], _ dtype: TrainingOptions.DType = .f32,
                _ optimizer: TrainingOptions.Optimizer = .adamw) throws -> TrainingMemory {
        let c = Pipeline.compile(path: path, bindings: bindings)
        XCTAssertTrue(c.succeeded, Support.rendered(c))
        return try TrainingMemory(try XCTUnwrap(c.graph), options: TrainingOptions(dtype: dtype, optimizer: optimizer))
    }
    func spec(_ name: String) -> String { Support.specs.appendingPathComponent(name).path }
    func fixture(_ name: String) -> String { Support.fixtures.appendingPathComponent("train/\(name)").path }

    /// Saved activations in f32, and in bf16 where the CPU measures what CUDA keeps (the CPU keeps
    /// the norms' statistics in bf16 and CUDA in f32; for those the bf16 figure is the CPU's plus the
    /// statistics' bytes once more, both measured).
    func testSavedActivationsMatchPyTorch() throws {
        let cases: [(path: String, sizes: [String: Int], f32: Int, bf16: Int?)] = [
            (spec("mlp.arch"), ["batch": 4], 81_920, 40_960),                     // archc's emit torch module
            (spec("resnet18.arch"), ["batch": 2], 44_398_080, 23_804_672 + 19_200),  // torchvision resnet18
            (fixture("vit_small.arch"), ["batch": 2], 322_960, 162_024 + 680),     // timm VisionTransformer
            (spec("bert_layer.arch"), ["batch": 2, "seq": 16], 1_574_912, 788_224 + 256),   // transformers BertLayer (sdpa)
            (spec("gpt2.arch"), ["batch": 2, "seq": 16], 19_120_768, 9_582_080 + 3_200),   // GPT2LMHeadModel (sdpa), its Conv1D projections as weights conv1d
            (fixture("ops.arch"), ["batch": 2], 207_280, 109_784 + 56),            // emit torch
            (fixture("sequence.arch"), ["batch": 2], 111_424, 57_248),             // emit torch
            (spec("lstm.arch"), ["batch": 2, "seq": 7], 473_200, 236_656),         // emit torch (nn.LSTM)
            (spec("unet.arch"), ["batch": 2], 9_013_760, 4_703_488 + 1_280),       // emit torch
            (spec("swin_t.arch"), ["batch": 1], 106_935_184, 53_467_592 + 89_768), // torchvision swin_t, no stochastic depth
            (spec("gmlp_ti16.arch"), ["batch": 1], 70_041_504, 35_020_752 + 47_824), // timm gmlp_ti16_224
            (spec("moe.arch"), ["batch": 2, "seq": 16], 2_362_496, 1_215_616),     // nn.RMSNorm + transformers' Mixtral block
            // transformers' LlamaForCausalLM (sdpa; rotary, grouped-query attention); in bf16 its RMSNorm keeps the
            // normalised tensor in bf16 where nn.RMSNorm (archc's rmsnorm) keeps it in f32.
            (fixture("llama_small.arch"), ["batch": 2, "seq": 16], 356_224, nil),
            (fixture("dataflow.arch"), ["batch": 2], 51_136, 29_920 + 512),       // emit torch: arithmetic, reductions, slices, views
            (spec("highway.arch"), ["batch": 4], 180_480, 90_240),                // the spec's formula, written out in PyTorch
            (spec("densenet121.arch"), ["batch": 1], 130_695_936, 66_150_784 + 167_296),  // torchvision densenet121
            (spec("convnext_t.arch"), ["batch": 1], 109_155_808, 54_577_904 + 83_696),    // torchvision convnext_tiny, no stochastic depth
            (spec("deit_s_distilled.arch"), ["batch": 2], 119_399_136, 59_756_592 + 39_600), // timm deit_small_distilled_patch16_224
        ]
        for c in cases {
            let name = URL(fileURLWithPath: c.path).lastPathComponent
            XCTAssertEqual(try memory(c.path, c.sizes).total.saved, c.f32, "\(name) f32")
            if let bf16 = c.bf16 { XCTAssertEqual(try memory(c.path, c.sizes, .bf16).total.saved, bf16, "\(name) bf16") }
        }
        // Swin with several windows in its last stage (k and v copied for the batched matmuls).
        XCTAssertEqual(try memory(spec("swin_t.arch"), ["batch": 2]).total.saved, 213_268_256)
    }

    /// Each saved storage counts at the first layer that keeps it: PyTorch's figures per top-level
    /// module of torchvision's resnet18 at batch 2 (ReLU's output, kept by the next layer too, at the ReLU).
    func testSavedActivationsPerLayerMatchPyTorch() throws {
        let c = Support.compileSpec("resnet18.arch", bindings: ["batch": 2])
        let g = try XCTUnwrap(c.graph)
        let t = try TrainingMemory(g, options: TrainingOptions())
        let measured = ["conv1": 1_204_224, "bn1": 6_423_040, "relu": 6_422_528, "maxpool": 3_211_264, "layer1": 14_452_736,
                        "layer2": 7_230_464, "layer3": 3_622_912, "layer4": 1_826_816, "avgpool": 0, "fc": 4_096]
        for (i, m) in g.modules.enumerated() where m.path.count == 1 {
            XCTAssertEqual(t.layers[i].saved, measured[m.name], m.name)
        }
        // The mlp's: fc1 keeps x [4, 1024], GELU fc1's output [4, 2048], fc2 GELU's output.
        let mlp = try memory(spec("mlp.arch"), ["batch": 4])
        XCTAssertEqual(mlp.layers.map(\.saved), [16_384, 32_768, 32_768])
    }

    /// Weights, gradients and optimizer state as `sum(p.numel() * p.element_size())` over
    /// model.parameters() (tied weights once), buffers over model.buffers() (num_batches_tracked
    /// stays int64), and torch.optim's state per parameter.
    func testWeightsGradientsAndOptimizerState() throws {
        let bf16 = try memory(spec("resnet18.arch"), ["batch": 1], .bf16, .sgdMomentum)
        XCTAssertEqual(bf16.total.weights, 11_689_512 * 2)
        XCTAssertEqual(bf16.total.gradients, 11_689_512 * 2)
        XCTAssertEqual(bf16.total.optimizer, 11_689_512 * 2, "SGD with momentum: one momentum_buffer")
        XCTAssertEqual(bf16.total.buffers, 9_600 * 2 + 20 * 8, "running_mean and running_var in bf16, 20 num_batches_tracked in int64")
        let adamw = try memory(spec("gpt2.arch"), ["seq": 8, "batch": 1])
        XCTAssertEqual(adamw.total.weights, 124_439_808 * 4, "the tied head counts once")
        XCTAssertEqual(adamw.total.optimizer, 2 * 124_439_808 * 4, "AdamW: exp_avg and exp_avg_sq")
        XCTAssertEqual(adamw.parameterTensors, 148)
        for optimizer in [TrainingOptions.Optimizer.sgd, .none] {
            XCTAssertEqual(try memory(spec("mlp.arch"), ["batch": 1], .f16, optimizer).total.optimizer, 0)
        }
        let f16 = try memory(spec("mlp.arch"), ["batch": 1], .f16)
        XCTAssertEqual(try f16.total.total(), 2_304_100 * 2 * 4 + 20_480 / 2)
    }

    /// An op autograd does not record saves nothing: a ReLU straight on the input (no parameter, no
    /// tracked input) keeps nothing, the linear after it keeps the ReLU's output.
    func testUntrackedOpsSaveNothing() throws {
        let c = Support.compile("model m\ninput x 8\nrelu\ndropout 0.5\nlinear 4\n", bindings: ["batch": 2])
        let t = try TrainingMemory(try XCTUnwrap(c.graph), options: TrainingOptions())
        XCTAssertEqual(t.saved.map(\.tensor.what), ["input"])
        XCTAssertEqual(t.total.saved, 2 * 8 * 4)
    }

    func testUnboundSizesAndOverflowAreErrors() throws {
        let c = Support.compileSpec("gpt2.arch")
        XCTAssertThrowsError(try TrainingMemory(try XCTUnwrap(c.graph), options: TrainingOptions())) {
            XCTAssertEqual($0 as? TrainingMemoryError, .unbound(["seq"]))
        }
        // 2^62 elements fit in 64 bits; their bytes do not.
        let huge = Support.compile("model m\ninput x [seq, 1073741824]\nlinear 2\n", bindings: ["batch": 2, "seq": 2_147_483_647])
        XCTAssertTrue(huge.succeeded, Support.rendered(huge))
        XCTAssertThrowsError(try TrainingMemory(try XCTUnwrap(huge.graph), options: TrainingOptions())) { XCTAssertTrue($0 is ArithmeticOverflow, "\($0)") }
        let r = Driver.run(["params", "-", "--train"].map { $0 == "-" ? Support.fixtures.appendingPathComponent("train/ops.arch").path : $0 } + ["--set", "batch=2147483647"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
