import Foundation
import Synchronization

/// `gemm-bench --cross-core`: the time a cache line takes to pass between two threads (a ping-pong
/// on one atomic, half a round trip, the fastest of 31 rounds of 2 000 round trips: a round in which
/// the host paused either thread reads hundreds of ns more), printed as `cross_core_ns=<number>`.
/// On the 2-vCPU virtual machines this project is measured on, it read 25-60 ns in some spells of
/// minutes and 150-200 ns in others (cores that do not share an L3: two CCDs of the EPYC), and in
/// the second kind archc at 2 threads ran ResNet-18 at batch 1 in 22 ms instead of 15.5 (ONNX
/// Runtime 18 instead of 17). `benchmarks/build_vs_peers.py` records it every round.
enum CrossCore {
    final class Line: Sendable { let value = Atomic<Int>(0) }

    /// One round: the partner thread says it is running (1), then the two take turns, the clock
    /// started only once it runs (its start-up, tens of µs, would otherwise add about 10 ns a trip).
    static func oneWayNanoseconds(roundTrips: Int = 2_000) -> Double {
        let line = Line()
        let partner = Thread {
            line.value.store(1, ordering: .releasing)
            for i in 0..<roundTrips {
                while line.value.load(ordering: .acquiring) != 2 * i + 2 {}
                line.value.store(2 * i + 3, ordering: .releasing)
            }
        }
        partner.start()
        while line.value.load(ordering: .acquiring) != 1 {}
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<roundTrips {
            line.value.store(2 * i + 2, ordering: .releasing)
            while line.value.load(ordering: .acquiring) != 2 * i + 3 {}
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(2 * roundTrips)
    }

    static func report() {
        let fastest = (0..<31).map { _ in oneWayNanoseconds() }.min()!
        print("cross_core_ns=\(Int(fastest.rounded()))")
    }
}

