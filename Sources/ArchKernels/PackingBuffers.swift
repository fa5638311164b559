import Foundation

/// The packing buffers a GEMM worker needs (a KC x NC block of B, an MC x KC block of A and an edge
/// tile), kept in a pool and reused: allocating 2 MB per call had the kernel zero fresh pages on
/// every convolution (7% of ResNet-18's time).
final class PackingBuffers: @unchecked Sendable {
    static let shared = PackingBuffers()
    static let bFloats = Gemm.kc * (Gemm.nc + Gemm.nr), aFloats = (Gemm.mc + Gemm.mr) * Gemm.kc, edgeFloats = Gemm.mr * Gemm.nr

    private let lock = NSLock()
    private var free: [UnsafeMutablePointer<Float>] = []

    /// Runs `body` with the three buffers (B block, A block, edge tile), taken from the pool.
    func with<R>(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> R) -> R {
        lock.lock()
        let base = free.popLast() ?? .allocate(capacity: Self.bFloats + Self.aFloats + Self.edgeFloats)
        lock.unlock()
        defer {
            lock.lock()
            free.append(base)
            lock.unlock()
        }
        return body(base, base + Self.bFloats, base + Self.bFloats + Self.aFloats)
    }
}

/// Whole packed B operands shared by the tasks of one row-split GEMM (each task would otherwise
/// pack the same B again), kept in a pool of buffers that grow to the largest request.
final class SharedPanels: @unchecked Sendable {
    static let shared = SharedPanels()
    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        lock.lock()
        var buffer = free.popLast() ?? (UnsafeMutablePointer<Float>.allocate(capacity: 1), 1)
        lock.unlock()
        if buffer.capacity < count {
            buffer.pointer.deallocate()
            buffer = (.allocate(capacity: count), count)
        }
        defer {
            lock.lock()
            free.append(buffer)
            lock.unlock()
        }
        return body(buffer.pointer)
    }
}
