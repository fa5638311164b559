/// A source text held as UTF-8 bytes. Locations are byte offsets; they become
/// line:column only when a diagnostic is printed.
public final class SourceFile: @unchecked Sendable {
    public let path: String
    public let bytes: [UInt8]
    /// Byte offset at which each line starts.
    public let lineStarts: [Int]

    /// A UTF-8 byte-order mark at the start is not part of the text (editors on Windows write one):
    /// it is dropped, so line 1's columns count from the first real character.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        var starts = [0]
        for (i, b) in self.bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    public convenience init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// 1-based line and column (columns count bytes, as clang and swiftc do).
    public func lineAndColumn(of offset: Int) -> (line: Int, column: Int) {
        let clamped = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= clamped { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, clamped - lineStarts[lo] + 1)
    }

    /// The text of a 1-based line, without its newline; invalid UTF-8 is shown replaced.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    public func text(_ range: Range<Int>) -> String {
        let lo = max(0, min(range.lowerBound, bytes.count))
        let hi = max(lo, min(range.upperBound, bytes.count))
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }
}

/// A place in a source file: a byte range.
public struct SourceLoc: Sendable, Hashable {
    public let file: SourceFile
    public let range: Range<Int>
    public init(_ file: SourceFile, _ range: Range<Int>) {
        self.file = file
        self.range = range
    }
    public var start: Int { range.lowerBound }
    public static func == (a: SourceLoc, b: SourceLoc) -> Bool { a.file === b.file && a.range == b.range }
    public func hash(into h: inout Hasher) {
        h.combine(ObjectIdentifier(file))
        h.combine(range.lowerBound)
    }
    /// `path:line:col`
    public var description: String {
        let (l, c) = file.lineAndColumn(of: range.lowerBound)
        return "\(file.path):\(l):\(c)"
    }
}
