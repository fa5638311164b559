/// Scratch memory for a step's temporaries (an MLP's hidden layer, attention's projections),
/// kept between steps and runs: numbered slots that grow to the largest request and are never
/// zeroed, so a steady-state run allocates nothing. A step's slots are free again when it ends.
final class Workspace {
    private var slots: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    /// `count` floats of slot `slot`; the contents are whatever the last user left.
    func buffer(_ slot: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
        while slots.count <= slot { slots.append((.allocate(capacity: 1), 1)) }
        if slots[slot].capacity < count {
            slots[slot].pointer.deallocate()
            slots[slot] = (.allocate(capacity: count), count)
        }
        return UnsafeMutableBufferPointer(start: slots[slot].pointer, count: count)
    }

    deinit { for s in slots { s.pointer.deallocate() } }
}
