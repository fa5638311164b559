import Dispatch
import Foundation
import Synchronization

/// Work split across cores. Kernels take their worker count from the schedule (`threads`);
/// `Parallel.cores` is what this machine offers.
public enum Parallel {
    /// Cores available to this process.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Runs `body(worker)` for worker 0..<workers, in parallel when there is more than one: on the
    /// pool's awake helpers (`WorkerPool`), or on Dispatch's threads when the pool is taken.
    /// The closure may capture raw pointers: each worker must touch a disjoint part of the output.
    @inline(__always)
    public static func run(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 { body(0); return }
        if WorkerPool.shared.run(workers, body) { return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: workers) { box.value($0) }
        }
    }

    /// Runs `body(task, worker)` for every task of 0..<tasks on up to `threads` workers, each taking
    /// the next task as it finishes one: a worker slowed by another process on its core takes fewer
    /// tasks instead of holding the others up. `worker` is in 0..<threads, for per-worker scratch.
    @inline(__always)
    public static func forEach(_ tasks: Int, threads: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        let workers = max(1, min(threads, tasks))
        if workers == 1 {
            for t in 0..<tasks { body(t, 0) }
            return
        }
        let next = TaskCounter()
        run(workers) { w in
            while true {
                let t = next.take()
                if t >= tasks { break }
                body(t, w)
            }
        }
    }

    /// The range of `0..<count` that worker `w` of `workers` takes (contiguous, sizes differ by at most one).
    @inline(__always)
    public static func share(_ count: Int, _ w: Int, _ workers: Int) -> Range<Int> {
        (count * w / workers)..<(count * (w + 1) / workers)
    }
}

/// The next task to take, shared by the workers of one `forEach`.
final class TaskCounter: @unchecked Sendable {
    let next = Atomic<Int>(0)
    @inline(__always) func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Carries a non-Sendable value (a closure over raw pointers) into `concurrentPerform`.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
