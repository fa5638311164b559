import PackagePlugin

/// Embeds the sources of the kernels, the tensor files and the engine in the code generator, so
/// `archc build` can write them into the programs it makes: one definition of each kernel, compiled
/// into archc for the interpreter and into every built program with its literal shapes.
@main
struct EmbedEngineSources: BuildToolPlugin {
    static let modules = ["ArchCore", "ArchKernels", "ArchIO", "ArchEngine"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let sources = try context.package.targets(named: Self.modules).compactMap { $0 as? SourceModuleTarget }
            .flatMap { $0.sourceFiles(withSuffix: "swift").map(\.url) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EngineSources.swift")
        return [.buildCommand(displayName: "Embedding the engine's sources for archc build",
                              executable: try context.tool(named: "embed-sources").url,
                              arguments: [output.path] + sources.map(\.path), inputFiles: sources, outputFiles: [output])]
    }
}
