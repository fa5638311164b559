import Foundation

/// Writes an output file (`init -o`, `run --output`, `emit torch -o`) so that no failure leaves a
/// half-written file, a clobbered one or a stray temporary file behind, and nothing but a file is
/// ever replaced:
/// - a symbolic link is followed to its target, which gets the content; the link stays a link;
/// - a character device (`/dev/null`) or a FIFO is written through: opened and written in place,
///   never renamed over; a directory, a block device or a socket is refused;
/// - a regular file, or a new one, is written to a temporary file beside it, then renamed over it
///   (keeping the old file's permissions); the temporary file is removed on every error, and on
///   SIGINT, SIGTERM and SIGHUP once `removeTemporaryFileOnSignals()` has been called.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        guard !path.isEmpty else { throw IOError("", "the output path is empty") }
        let target = try resolveLinks(path)
        var info = stat()
        guard lstat(target, &info) == 0 else {
            // Nothing there yet (or nothing we may look at): a new file, whose errors say why.
            return try replace(target, with: data, mode: nil, shownAs: path)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: try replace(target, with: data, mode: info.st_mode & 0o7777, shownAs: path)
        case S_IFCHR, S_IFIFO: try writeThrough(data, to: target, shownAs: path)
        case S_IFDIR: throw IOError(path, "is a directory")
        case S_IFBLK: throw IOError(path, "is a block device; outputs go to files, character devices and pipes")
        default: throw IOError(path, "is not a file; outputs go to files, character devices and pipes")
        }
    }

    /// The path with every symbolic link along its last component followed (relative targets are
    /// relative to the link's folder); a dangling link ends at the file it names, to be created.
    static func resolveLinks(_ path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            guard let next = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else {
                throw IOError(path, "cannot read the symbolic link \(current)")
            }
            let folder = split(current).folder
            current = next.hasPrefix("/") || folder.isEmpty ? next : folder + (folder.hasSuffix("/") ? "" : "/") + next
        }
        throw IOError(path, "too many levels of symbolic links")
    }

    /// Writes into an existing device or FIFO in place.
    static func writeThrough(_ data: Data, to target: String, shownAs path: String) throws {
        let fd = open(target, O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw IOError(path, "cannot open for writing: \(reason())") }
        if let error = writeAll(data, to: fd) {
            close(fd)
            throw IOError(path, "cannot write: \(error)")
        }
        guard close(fd) == 0 else { throw IOError(path, "cannot write: \(reason())") }
    }

    /// Writes a temporary file beside `target` and renames it over `target`; removes it on any error.
    static func replace(_ target: String, with data: Data, mode: mode_t?, shownAs path: String) throws {
        let (folder, name) = split(target)
        let tmp = (folder.isEmpty ? "" : folder.hasSuffix("/") ? folder : folder + "/") + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw IOError(path, "cannot create a temporary file in \(folder.isEmpty ? "." : folder): \(reason())") }
        Pending.set(tmp)
        var renamed = false
        defer {
            if !renamed { unlink(tmp) }
            Pending.clear()
        }
        if let error = writeAll(data, to: fd) {
            close(fd)
            throw IOError(path, "cannot write: \(error)")
        }
        if let mode { fchmod(fd, mode) }
        guard close(fd) == 0 else { throw IOError(path, "cannot write: \(reason())") }
        guard rename(tmp, target) == 0 else { throw IOError(path, "cannot replace the file: \(reason())") }
        renamed = true
    }

    /// `a/b/c` -> (`a/b`, `c`); `c` -> (``, `c`); `/c` -> (`/`, `c`). By hand: NSString's path methods
    /// trap on one-character relative paths in this toolchain's Foundation (found by the fuzz test).
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let name = String(path[path.index(after: slash)...])
        return (slash == path.startIndex ? "/" : String(path[..<slash]), name)
    }

    /// Writes every byte, continuing after partial writes and interruptions; the error, if any.
    static func writeAll(_ data: Data, to fd: Int32) -> String? {
        data.withUnsafeBytes { raw -> String? in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, min(raw.count - offset, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    return reason()
                }
                offset += n
            }
            return nil
        }
    }

    static func reason() -> String { String(cString: strerror(errno)) }

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove the temporary file being
    /// written, if any, then end the process as the signal would have.
    public static func removeTemporaryFileOnSignals() {
        Pending.prepare()
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                Pending.removeFromSignalHandler()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }
}

/// The temporary file being written, in a fixed buffer that a signal handler may read: the handler
/// does only async-signal-safe work (unlink) and never allocates.
enum Pending {
    static let capacity = 4097
    nonisolated(unsafe) static let buffer: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
        return p
    }()

    /// Allocates the buffer before any handler can need it.
    static func prepare() { _ = buffer }

    /// Publishes a path, its first byte last, so a handler sees all of it or nothing.
    static func set(_ path: String) {
        let bytes = Array(path.utf8)
        guard let first = bytes.first, bytes.count < capacity else { return }
        buffer[0] = 0
        for i in 1..<bytes.count { buffer[i] = CChar(bitPattern: bytes[i]) }
        buffer[bytes.count] = 0
        buffer[0] = CChar(bitPattern: first)
    }

    static func clear() { buffer[0] = 0 }

    static func removeFromSignalHandler() {
        if buffer[0] != 0 { unlink(buffer) }
    }
}
