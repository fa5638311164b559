import Dispatch
import Foundation
import Synchronization

/// The threads `Parallel.run` hands work to: kept alive between calls and spinning for a while
/// after each one, so the next parallel step of a network starts in well under a microsecond
/// instead of the tens of microseconds a wake-up through `concurrentPerform` takes (a network runs
/// 50 to 150 parallel steps per pass; at 20-40 us each that was 2 to 6 ms of a 4 to 20 ms pass).
/// After `spin` without work a helper sleeps on its semaphore until woken by the next job.
///
/// One job at a time: a second caller (another thread running another network, or a kernel
/// parallel inside a parallel kernel) finds the pool busy and uses `concurrentPerform` instead.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long a helper spins for the next job before it sleeps.
    static let spin: Double = 0.002

    /// The job word: (job number << 16) | workers. Helpers read the number and the worker count
    /// in one load; the caller publishes `body` before it stores the word.
    private let word = Atomic<Int>(0)
    /// Helpers of the current job that have not finished.
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// The current job's body; written only while no helper can be running one.
    private var body: UnsafeMutableRawPointer?
    private let growing = Mutex<Void>(())
    private var helpers: [Helper] = []
    private let helperCount = Atomic<Int>(0)

    final class Helper: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        let sleeping = Atomic<Bool>(false)
    }

    /// Runs `body(w)` for w in 0..<workers, worker 0 on the calling thread; false (nothing run)
    /// when the pool is busy with another job.
    func run(_ workers: Int, _ work: (Int) -> Void) -> Bool {
        guard workers > 1, workers < 1 << 15,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        ensureHelpers(workers - 1)
        return withoutActuallyEscaping(work) { work in
            var job = work
            return withUnsafeMutablePointer(to: &job) { pointer in
                body = UnsafeMutableRawPointer(pointer)
                remaining.store(workers - 1, ordering: .relaxed)
                let number = (word.load(ordering: .relaxed) >> 16) &+ 1
                word.store((number << 16) | workers, ordering: .sequentiallyConsistent)
                for i in 0..<(workers - 1) where helpers[i].sleeping.load(ordering: .sequentiallyConsistent) { helpers[i].wake.signal() }
                work(0)
                while remaining.load(ordering: .acquiring) > 0 {}
                body = nil
                return true
            }
        }
    }

    /// Starts helpers until there are `count`.
    private func ensureHelpers(_ count: Int) {
        guard helperCount.load(ordering: .acquiring) < count else { return }
        growing.withLock { _ in
            while helpers.count < count {
                let helper = Helper(), index = helpers.count
                helpers.append(helper)
                // The job number before the caller's next job: that job is the helper's first.
                let seen = word.load(ordering: .acquiring) >> 16
                let thread = Thread { [unowned self] in self.loop(index, helper, seen: seen) }
                thread.name = "archc worker \(index + 1)"
                thread.start()
            }
            helperCount.store(helpers.count, ordering: .releasing)
        }
    }

    /// A helper's life: wait for a job whose worker count includes it, run its part, report.
    private func loop(_ index: Int, _ helper: Helper, seen first: Int) {
        var seen = first
        while true {
            let current = waitForJob(after: seen, helper)
            seen = current >> 16
            let workers = current & 0xFFFF
            guard index + 1 < workers, let body else { continue }
            body.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index + 1)
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Spins until the job number moves past `seen`, sleeping after `spin` seconds of nothing.
    private func waitForJob(after seen: Int, _ helper: Helper) -> Int {
        var start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while true {
            let current = word.load(ordering: .acquiring)
            if current >> 16 != seen { return current }
            spins &+= 1
            guard spins & 1023 == 0 else { continue }
            let now = DispatchTime.now().uptimeNanoseconds
            if Double(now - start) < Self.spin * 1e9 { continue }
            helper.sleeping.store(true, ordering: .sequentiallyConsistent)
            if word.load(ordering: .sequentiallyConsistent) >> 16 == seen { helper.wake.wait() }
            helper.sleeping.store(false, ordering: .sequentiallyConsistent)
            start = DispatchTime.now().uptimeNanoseconds
        }
    }
}
