import Foundation

/// The Swift compiler `archc build` runs: `$SWIFTC` if set, else `swiftc` on the PATH.
struct Toolchain {
    let swiftc: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func find() throws -> Toolchain {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["SWIFTC"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw Failure(description: "error: SWIFTC is '\(explicit)', which is not an executable file")
            }
            return Toolchain(swiftc: explicit)
        }
        for dir in (env["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(dir)/swiftc"
            if FileManager.default.isExecutableFile(atPath: candidate) { return Toolchain(swiftc: candidate) }
        }
        throw Failure(description: """
            error: archc build needs the Swift compiler, and there is no swiftc on the PATH
            note: install a Swift 6 toolchain (swift.org/install), or set SWIFTC=/path/to/swiftc
            """)
    }

    /// Runs swiftc with `arguments`; returns what it printed. Throws with its output when it fails.
    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swiftc)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch {
            throw Failure(description: "error: cannot start \(swiftc): \(error.localizedDescription)")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            let shown = lines.prefix(40).joined(separator: "\n") + (lines.count > 40 ? "\n... (\(lines.count - 40) more lines)" : "")
            throw Failure(description: "error: swiftc failed (\(process.terminationReason == .exit ? "exit \(process.terminationStatus)" : "killed by signal \(process.terminationStatus)"))\n\(shown)")
        }
        return output
    }
}
