import Foundation
import XCTest

/// The loop the command-line and tensor-file fuzz tests share: seeded cases on a worker thread (a
/// trap ends the test run, with the case in ARCHC_FUZZ_TRACE), a watchdog for hangs, and a
/// failure list.
extension FuzzTests {
    /// ARCHC_FUZZ_COUNT when set (for a campaign), else the test's own default (a CI-sized run).
    static func caseCount(default n: Int) -> Int {
        ProcessInfo.processInfo.environment["ARCHC_FUZZ_COUNT"].flatMap { Int($0) } ?? n
    }

    /// The generator of case `n`: the same case whatever the others did.
    static func generator(_ n: Int, salt: UInt64) -> Random {
        Random(state: (seed ^ salt) &+ UInt64(n) &* 0xD1B5_4A32_D192_ED03)
    }

    /// Shared between the worker and the watchdog.
    final class Watch: @unchecked Sendable {
        let lock = NSLock()
        var current = -1
        var started = Date()
        var description = ""
        var failures: [String] = []
        var tally: [String: Int] = [:]
        var stop = false
        func with<T>(_ f: (Watch) -> T) -> T { lock.lock(); defer { lock.unlock() }; return f(self) }
    }

    /// Runs `count` cases. `make` builds case n (and a printable description of it); `check` runs it
    /// and returns a failure and the outcome to count ("ok", "error", ...).
    static func campaign<Case>(_ name: String, count: Int, salt: UInt64, make: @escaping (Int, inout Random) -> (Case, String),
                               check: @escaping (Case, Int) -> (failure: String?, outcome: String)) -> Watch {
        let watch = Watch()
        let done = DispatchSemaphore(value: 0)
        let trace = ProcessInfo.processInfo.environment["ARCHC_FUZZ_TRACE"]
        let box = UncheckedBox((make, check))
        let worker = Thread {
            let (make, check) = box.value
            for n in 0..<count {
                var rng = generator(n, salt: salt)
                let (c, description) = make(n, &rng)
                if watch.with({ w in w.current = n; w.started = Date(); w.description = description; return w.stop }) { break }
                if let trace { _ = FileManager.default.createFile(atPath: trace, contents: Data("\(name) case \(n)\n\(description)\n".utf8)) }
                let (failure, outcome) = check(c, n)
                watch.with { w in
                    w.tally[outcome, default: 0] += 1
                    if let failure { w.failures.append("\(name) case \(n): \(failure)\n--- case \(n) ---\n\(description)") }
                }
            }
            done.signal()
        }
        worker.stackSize = 8 << 20
        worker.start()
        while done.wait(timeout: .now() + 0.25) == .timedOut {
            let (n, started, description) = watch.with { ($0.current, $0.started, $0.description) }
            if Date().timeIntervalSince(started) > hangSeconds {
                watch.with { w in
                    w.failures.append("\(name) case \(n) has run for more than \(hangSeconds) s (a hang):\n\(description)")
                    w.stop = true
                }
                break
            }
        }
        return watch
    }

    /// Reports a campaign's failures and tally.
    static func report(_ name: String, _ watch: Watch, seconds: Double) {
        let (failures, tally) = watch.with { ($0.failures, $0.tally) }
        let total = tally.values.reduce(0, +)
        print("fuzz \(name): \(total) cases in \(String(format: "%.2f", seconds)) s: "
              + tally.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        for f in failures.prefix(20) { XCTFail(f) }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) \(name) cases failed")
    }
}

/// Hands non-Sendable closures to the worker thread, which alone calls them.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
