import Dispatch
import Foundation

/// Work split across cores. Kernels take their worker count from the schedule (`threads`);
/// `Parallel.cores` is what this machine offers.
public enum Parallel {
    /// Cores available to this process.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Runs `body(worker)` for worker 0..<workers, in parallel when there is more than one.
    /// The closure may capture raw pointers: each worker must touch a disjoint part of the output.
    @inline(__always)
    public static func run(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: workers) { box.value($0) }
        }
    }

    /// The range of `0..<count` that worker `w` of `workers` takes (contiguous, sizes differ by at most one).
    @inline(__always)
    public static func share(_ count: Int, _ w: Int, _ workers: Int) -> Range<Int> {
        (count * w / workers)..<(count * (w + 1) / workers)
    }
}

/// Carries a non-Sendable value (a closure over raw pointers) into `concurrentPerform`.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
