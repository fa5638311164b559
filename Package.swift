// swift-tools-version:6.3
import PackageDescription

let package = Package(
    name: "archc",
    products: [
        .executable(name: "archc", targets: ["archc"]),
        .library(name: "ArchDriver", targets: ["ArchDriver"]),
    ],
    targets: [
        // Syntax: source files, lexer, parser, AST, diagnostics.
        .target(name: "ArchSyntax"),
        // What the checker and the engine share: the error with notes, edit distance for suggestions.
        .target(name: "ArchCore"),
        // Semantics: symbolic shapes, the closed op set, block expansion, the checked graph.
        .target(name: "ArchSemantics", dependencies: ["ArchSyntax", "ArchCore"]),
        // The executable IR: the checked graph lowered with concrete shapes, fused, buffers planned;
        // run by the interpreter and compiled by the ahead-of-time backend.
        .target(name: "ArchIR", dependencies: ["ArchSemantics", "ArchKernels", "ArchEngine"]),
        // Driver: the one pipeline every command shares, and the reports.
        .target(name: "ArchDriver", dependencies: ["ArchSyntax", "ArchSemantics", "ArchIR", "ArchIO", "ArchRuntime", "ArchCodegen", "ArchEngine", "ArchGraph",
                                                   "ArchExport"]),
        // Pictures of the network: the diagram at a depth, its layered layout, SVG, DOT and Mermaid.
        .target(name: "ArchGraph", dependencies: ["ArchSemantics", "ArchIO"]),
        // Tensor files: safetensors and .npy, read and written with every size checked.
        .target(name: "ArchIO"),
        // Compute kernels shared by the interpreter and the ahead-of-time backend. Always optimised and
        // compiled for this CPU: SIMD16 code runs about 200x slower without -target-cpu.
        .target(name: "ArchKernels", swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", "native"])]),
        // Loads and runs a planned program: weights bound by name, constants prepared, the arena;
        // shared by the interpreter and the programs `archc build` makes (its sources go into them).
        .target(name: "ArchEngine", dependencies: ["ArchCore", "ArchKernels", "ArchIO"],
                swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", "native"])]),
        // Code generation: PyTorch modules from the checked graph; Swift programs and packages from the
        // planned program, with the engine's sources embedded by the plugin below.
        .target(name: "ArchCodegen", dependencies: ["ArchSemantics", "ArchIR", "ArchEngine", "ArchKernels", "ArchIO"],
                plugins: ["EmbedEngineSources"]),
        // ONNX export: the checked graph as an ONNX model, through its own Protocol Buffers writer.
        .target(name: "ArchExport", dependencies: ["ArchCore", "ArchSemantics", "ArchIR", "ArchKernels"]),
        .executableTarget(name: "embed-sources", path: "Sources/embed-sources"),
        .plugin(name: "EmbedEngineSources", capability: .buildTool(), dependencies: ["embed-sources"]),
        // Runs a checked graph on real weights: weight binding, initialisation, the interpreter.
        .target(name: "ArchRuntime", dependencies: ["ArchSemantics", "ArchIR", "ArchIO", "ArchKernels", "ArchEngine"]),
        .executableTarget(name: "gemm-bench", dependencies: ["ArchKernels"], path: "benchmarks/gemm-bench"),
        .executableTarget(name: "archc", dependencies: ["ArchDriver"]),
        .testTarget(
            name: "ArchTests",
            dependencies: ["ArchCore", "ArchSyntax", "ArchSemantics", "ArchIR", "ArchDriver", "ArchIO", "ArchKernels", "ArchRuntime", "ArchCodegen", "ArchEngine", "ArchGraph",
                           "ArchExport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
