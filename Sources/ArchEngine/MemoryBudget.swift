import Foundation

/// Refuses work that would not fit in memory before anything is allocated, with the sizes and a
/// fix, instead of dying in the allocator.
public enum MemoryBudget {
    /// At most this fraction of the machine's memory.
    static let fraction = 0.75

    public static var limit: Double { Double(ProcessInfo.processInfo.physicalMemory) * fraction }

    /// Throws when `floats` 4-byte values (several terms, each checked for overflow) do not fit.
    public static func check(_ terms: [(what: String, floats: Int)], fix: String) throws {
        var total = 0
        for t in terms {
            let (sum, overflow) = total.addingReportingOverflow(t.floats)
            guard !overflow else { throw EngineError("\(t.what) is too large to address") }
            total = sum
        }
        let bytes = Double(total) * 4
        guard bytes <= limit else {
            let parts = terms.filter { $0.floats > 0 }.map { "\($0.what) \(megabytes(Double($0.floats) * 4))" }.joined(separator: ", ")
            throw EngineError("this needs \(megabytes(bytes)) of memory (\(parts)); this machine has \(megabytes(limit / fraction))",
                              notes: [fix])
        }
    }

    static func megabytes(_ bytes: Double) -> String {
        bytes >= 1e9 ? String(format: "%.1f GB", bytes / 1e9) : String(format: "%.1f MB", bytes / 1e6)
    }
}
