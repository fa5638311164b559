/// Overflow-checked integer arithmetic. Release builds may run with overflow traps removed, so every
/// size computation in the checker goes through these and reports overflow as a diagnostic.
public struct ArithmeticOverflow: Error, Sendable {
    public let what: String
}

@inline(__always)
public func checkedMul(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw ArithmeticOverflow(what: what()) }
    return r
}

@inline(__always)
public func checkedAdd(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw ArithmeticOverflow(what: what()) }
    return r
}

@inline(__always)
public func checkedSub(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.subtractingReportingOverflow(b)
    if o { throw ArithmeticOverflow(what: what()) }
    return r
}

public func checkedProduct(_ xs: [Int], _ what: @autoclosure () -> String = "size") throws -> Int {
    var p = 1
    for x in xs { p = try checkedMul(p, x, what()) }
    return p
}

public func checkedSum(_ xs: [Int], _ what: @autoclosure () -> String = "size") throws -> Int {
    var s = 0
    for x in xs { s = try checkedAdd(s, x, what()) }
    return s
}
