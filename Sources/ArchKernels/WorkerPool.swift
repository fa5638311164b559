import Foundation
import Synchronization

/// Threads that stay awake between parallel regions. A network is a chain of steps, each split
/// across the cores and each a few microseconds to a few milliseconds long; Dispatch's workers go
/// to sleep between them, and waking one took 13-17 us on this machine's virtual CPUs (measured
/// after 200 us of single-threaded work), paid by every norm, every fused block and every GEMM.
/// Here a helper that finishes its part spins on the job counter for up to `spinTime` before it
/// sleeps (as ONNX Runtime's and OpenMP's pools do), so the next step starts at once.
///
/// One job at a time: a parallel region started inside another (or while another runs on a
/// different thread) is refused and its caller uses Dispatch instead.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Cores of this machine, asked once (not on every parallel region).
    static let cores = Parallel.cores

    /// How long an idle helper spins before it sleeps.
    static let spinTime: UInt64 = 2_000_000   // ns

    private let generation = Atomic<Int>(0)   // bumped once per job
    private let remaining = Atomic<Int>(0)    // helpers that have not yet finished with the current job
    private let busy = Atomic<Bool>(false)    // a job is being submitted or run
    private let wake = NSCondition()          // where idle helpers sleep
    // Written by the submitting thread before `generation` is bumped (release), read by the
    // helpers after they see the new generation (acquire).
    private var job: ((Int) -> Void)? = nil
    private var jobWorkers = 0
    private var helpers = 0                   // helper threads started (only the submitter changes it, while busy)

    /// Runs body(0..<workers) with the caller as worker 0 and helpers as the others; false (nothing
    /// run) when the pool is busy or `workers` exceeds the cores (helpers would then spin on a core
    /// another of them needs).
    func run(_ workers: Int, _ body: (Int) -> Void) -> Bool {
        guard workers <= Self.cores else { return false }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while helpers < workers - 1 { startHelper(index: helpers + 1) }
        withoutActuallyEscaping(body) { body in
            job = body
            jobWorkers = workers
            // Every helper answers, those without a part too: none may still be reading this job's
            // fields when the next one is written.
            remaining.store(helpers, ordering: .relaxed)
            wake.lock()
            generation.wrappingAdd(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
            body(0)
            while remaining.load(ordering: .acquiring) > 0 { spinPause() }
            job = nil
        }
        return true
    }

    private func startHelper(index: Int) {
        helpers += 1
        let seen = generation.load(ordering: .acquiring)
        let thread = Thread { [self] in helperLoop(index: index, seen: seen) }
        thread.name = "archc worker \(index)"
        thread.start()
    }

    /// A helper's life: wait for the next job (spinning, then sleeping), take its part if it has one.
    private func helperLoop(index: Int, seen start: Int) {
        var seen = start
        while true {
            seen = waitForJob(after: seen)
            if index < jobWorkers, let job { job(index) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// The generation of the next job after `seen`: spins for `spinTime`, then sleeps until woken.
    private func waitForJob(after seen: Int) -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while true {
            let g = generation.load(ordering: .acquiring)
            if g != seen { return g }
            spinPause()
            spins += 1
            if spins & 1023 == 0 && DispatchTime.now().uptimeNanoseconds - start > Self.spinTime { break }
        }
        wake.lock()
        defer { wake.unlock() }
        while generation.load(ordering: .acquiring) == seen { wake.wait() }
        return generation.load(ordering: .acquiring)
    }
}

/// The processor's spin-wait hint (x86's `pause`; nothing elsewhere), in every spin loop of the pool,
/// as ONNX Runtime's and OpenMP's pools have: where two hardware threads share a core, a loop
/// spinning without it takes issue slots from the worker computing beside it, and leaving the loop
/// does not flush the pipeline. On this project's 2-vCPU machines, whose vCPUs are not SMT siblings,
/// it measured level (ResNet-18, batch 1, 16 alternating pairs of processes: 15.3-16.5 ms both).
@inline(__always)
func spinPause() {
    #if arch(x86_64)
    x86Pause()
    #endif
}

#if arch(x86_64)
/// LLVM's intrinsic for the instruction (no C module needed).
@_silgen_name("llvm.x86.sse2.pause") func x86Pause()
#endif
