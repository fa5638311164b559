import Foundation

extension AtomicFile {
    /// A new file at `path` made by another program (`archc build` runs swiftc): `make` writes it
    /// at the temporary path it is given, beside the target, which is then renamed into place. The
    /// same rules as `write`: links followed, and only a regular file (or nothing) replaced: an
    /// executable cannot go to a device. The temporary file is removed on every error and on signals.
    public static func produce(at path: String, _ make: (_ temporaryPath: String) throws -> Void) throws {
        guard !path.isEmpty else { throw IOError("", "the output path is empty") }
        let target = try resolveLinks(path)
        var info = stat()
        if lstat(target, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw IOError(path, "is a directory; give the program's file name")
            default: throw IOError(path, "is not a regular file; a program is written to a file")
            }
        }
        let (folder, name) = split(target)
        let tmp = (folder.isEmpty ? "" : folder.hasSuffix("/") ? folder : folder + "/") + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        Pending.set(tmp)
        var renamed = false
        defer {
            if !renamed { unlink(tmp) }
            Pending.clear()
        }
        try make(tmp)
        guard rename(tmp, target) == 0 else { throw IOError(path, "cannot write the file: \(reason())") }
        renamed = true
    }
}
