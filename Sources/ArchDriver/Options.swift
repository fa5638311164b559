import ArchSemantics

/// The command line every command shares: files, flags, options with a value, `--set NAME=VALUE`.
/// Every value is checked where it is read: a number out of range, an option given twice or one
/// missing its value is a usage error (exit 2) naming the option, never ignored, clamped or trapped on.
extension Driver {
    struct UsageError: Error { let message: String }

    /// Options whose value is a whole number, and the values they accept.
    static let numericOptions: [String: ClosedRange<Int>] = [
        "--depth": 0...Int(Int32.max),
        "--top": 1...Int(Int32.max),
        // Each run is timed and kept for the median; a million is far past any benchmark.
        "--repeat": 1...1_000_000,
        "--threads": 1...1024,
        "--profile-steps": 1...Int(Int32.max),
    ]
    /// The largest size `--set` binds, as for sizes written in a spec.
    static let maxSize = Int(Int32.max)

    /// Splits options from files. `--set` takes NAME=VALUE; value-taking options are listed.
    static func parseOptions(_ args: [String], flags: Set<String>, valued: Set<String>) throws
        -> (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int]) {
        var files: [String] = [], set: Set<String> = [], values: [String: String] = [:], bindings: [String: Int] = [:]
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--set" || a.hasPrefix("--set=") {
                let spec: String
                if a == "--set" {
                    guard i + 1 < args.count else { throw UsageError(message: "--set needs NAME=VALUE") }
                    spec = args[i + 1]
                    i += 1
                } else { spec = String(a.dropFirst(6)) }
                let (name, value) = try binding(spec)
                if let old = bindings[name], old != value { throw UsageError(message: "--set \(name) is given twice (\(old) and \(value))") }
                bindings[name] = value
            } else if flags.contains(a) {
                set.insert(a)
            } else if valued.contains(a) {
                guard i + 1 < args.count else { throw UsageError(message: "\(a) needs a value") }
                if values[a] != nil { throw UsageError(message: "\(a) is given twice") }
                try check(a, args[i + 1])
                values[a] = args[i + 1]
                i += 1
            } else if a.hasPrefix("-") && a != "-" {
                let all = Array(flags) + Array(valued) + ["--set"]
                throw UsageError(message: "unknown option '\(a)'\(Suggest.didYouMean(a, in: all))")
            } else {
                files.append(a)
            }
            i += 1
        }
        return (files, set, values, bindings)
    }

    /// `seq=128` -> ("seq", 128), the size checked as sizes in a spec are.
    static func binding(_ spec: String) throws -> (String, Int) {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw UsageError(message: "--set expects NAME=VALUE, got '\(spec)'")
        }
        guard let v = Int(parts[1]), v >= 1, v <= maxSize else {
            throw UsageError(message: "--set \(parts[0]) needs a positive whole number up to \(maxSize), got '\(parts[1])'")
        }
        return (parts[0], v)
    }

    /// A numeric option's value must be a whole number in its range; `--seed` any 64-bit one.
    static func check(_ option: String, _ value: String) throws {
        if option == "--seed" {
            guard UInt64(value) != nil else { throw UsageError(message: "--seed needs a whole number from 0 to \(UInt64.max), got '\(value)'") }
        } else if let range = numericOptions[option] {
            guard let n = Int(value), range.contains(n) else {
                throw UsageError(message: "\(option) needs a whole number from \(range.lowerBound) to \(range.upperBound), got '\(value)'")
            }
        }
    }

    /// Takes out every `OPTION VALUE` of an option that may be given several times (`--input`).
    static func repeatedOption(_ option: String, in args: [String]) throws -> (values: [String], rest: [String]) {
        var values: [String] = [], rest: [String] = []
        var i = 0
        while i < args.count {
            if args[i] == option {
                guard i + 1 < args.count else { throw UsageError(message: "\(option) needs a value") }
                values.append(args[i + 1])
                i += 2
            } else {
                rest.append(args[i])
                i += 1
            }
        }
        return (values, rest)
    }

    static func usageError(_ m: String, _ help: String) -> Output {
        Output(stdout: "", stderr: "error: \(m)\n\n\(help)\n", status: 2)
    }
}
