import Foundation
import Synchronization
import XCTest
@testable import ArchKernels

/// The worker pool behind `Parallel.run`: every part of every job runs once, back to back and after
/// the helpers have gone to sleep; a region started inside another, or from two threads at once,
/// still runs whole (on Dispatch's threads).
extension KernelTests {
    func testEveryPartOfEveryJobRunsOnce() {
        let cores = max(2, Parallel.cores)
        var counts = [Int](repeating: 0, count: 64)
        counts.withUnsafeMutableBufferPointer { c in
            let p = c.baseAddress!
            for job in 0..<2000 {
                let workers = 2 + job % (cores - 1)
                Parallel.run(workers) { w in p[w * 8] += 1 }   // a cache line per worker
            }
        }
        let expected = (0..<2000).reduce(into: [Int](repeating: 0, count: 8)) { e, job in
            for w in 0..<(2 + job % (cores - 1)) where w < 8 { e[w] += 1 }
        }
        XCTAssertEqual((0..<min(8, cores)).map { counts[$0 * 8] }, Array(expected.prefix(min(8, cores))))
        // After the helpers' spin has run out (they sleep and must be woken).
        var slept = [Int](repeating: 0, count: 2 * 8)
        Thread.sleep(forTimeInterval: 0.01)
        slept.withUnsafeMutableBufferPointer { c in let p = c.baseAddress!; Parallel.run(2) { w in p[w * 8] += 1 } }
        XCTAssertEqual([slept[0], slept[8]], [1, 1])
    }

    func testNestedAndConcurrentRegionsRunWhole() {
        let total = Atomic<Int>(0)
        Parallel.run(2) { _ in
            Parallel.run(2) { _ in total.wrappingAdd(1, ordering: .relaxed) }   // the pool is taken: Dispatch runs it
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 4)
        let sums = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { submitter in
            for _ in 0..<200 { Parallel.forEach(10, threads: 2) { task, _ in sums.wrappingAdd(task + submitter, ordering: .relaxed) } }
        }
        XCTAssertEqual(sums.load(ordering: .relaxed), 200 * (4 * 45 + 10 * (0 + 1 + 2 + 3)))
    }
}
