/// A problem with a tensor file, naming the file and, where there is one, the tensor.
public struct IOError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let tensor: String?
    public let message: String

    public init(_ path: String, tensor: String? = nil, _ message: String) {
        self.path = path
        self.tensor = tensor
        self.message = message
    }

    public var description: String {
        (path.isEmpty ? "" : "\(path): ") + "error: " + (tensor.map { "tensor '\($0)': " } ?? "") + message
    }
}

/// Overflow-checked size arithmetic for file headers, which are untrusted input.
enum Sizes {
    static func product(_ dims: [Int], _ err: @autoclosure () -> IOError) throws -> Int {
        var n = 1
        for d in dims {
            guard d >= 0 else { throw err() }
            let (r, o) = n.multipliedReportingOverflow(by: d)
            if o { throw err() }
            n = r
        }
        return n
    }
}
