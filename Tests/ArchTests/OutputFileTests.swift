import Foundation
import XCTest
@testable import ArchIO
@testable import ArchDriver

/// Output files (`init -o`, `run --output`, `emit torch -o`): symbolic links followed, devices and
/// FIFOs written through and never replaced, and no temporary file left after a failed write.
/// Tests may run as root, where permissions block nothing: failures come from /dev/full, a parent
/// that is a regular file, and a file-size limit (ulimit -f) on the built binary.
final class OutputFileTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-out-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func temporaries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") } }
    func type(_ p: String) throws -> FileAttributeType? { try FileManager.default.attributesOfItem(atPath: p)[.type] as? FileAttributeType }
    func message(_ f: () throws -> Void) -> String {
        do { try f(); return "no error" } catch { return "\(error)" }
    }

    func testSymbolicLinksAreFollowed() throws {
        try Data("old".utf8).write(to: URL(fileURLWithPath: path("target")))
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: "target")
        try FileManager.default.createSymbolicLink(atPath: path("link2"), withDestinationPath: path("link"))
        try AtomicFile.write(Data("new".utf8), to: path("link2"))
        XCTAssertEqual(try type(path("link")), .typeSymbolicLink)
        XCTAssertEqual(try type(path("link2")), .typeSymbolicLink)
        XCTAssertEqual(try String(contentsOfFile: path("target"), encoding: .utf8), "new")
        // A dangling link: the file it names is created.
        try FileManager.default.createSymbolicLink(atPath: path("dangling"), withDestinationPath: "made")
        try AtomicFile.write(Data("x".utf8), to: path("dangling"))
        XCTAssertEqual(try type(path("dangling")), .typeSymbolicLink)
        XCTAssertEqual(try String(contentsOfFile: path("made"), encoding: .utf8), "x")
        // A loop is an error, not a hang.
        try FileManager.default.createSymbolicLink(atPath: path("loop"), withDestinationPath: "loop")
        XCTAssertTrue(message { try AtomicFile.write(Data(), to: self.path("loop")) }.hasSuffix("too many levels of symbolic links"))
        XCTAssertEqual(try temporaries(), [])
    }

    /// Relative paths of one character (Foundation's NSString path methods trapped on them; the
    /// command-line fuzz test found it through `run --output 1`).
    func testShortRelativePaths() throws {
        XCTAssertEqual(AtomicFile.split("1").folder, "")
        XCTAssertEqual(AtomicFile.split("1").name, "1")
        XCTAssertEqual(AtomicFile.split("/a").folder, "/")
        XCTAssertEqual(AtomicFile.split("a/b/c").folder, "a/b")
        XCTAssertEqual(AtomicFile.split("a/").name, "")
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        try AtomicFile.write(Data("one".utf8), to: "1")
        try FileManager.default.createSymbolicLink(atPath: "l", withDestinationPath: "t")
        try AtomicFile.write(Data("two".utf8), to: "l")
        XCTAssertEqual(try String(contentsOfFile: path("1"), encoding: .utf8), "one")
        XCTAssertEqual(try String(contentsOfFile: path("t"), encoding: .utf8), "two")
        XCTAssertEqual(try temporaries(), [])
    }

    func testReplacingKeepsPermissions() throws {
        try Data("old".utf8).write(to: URL(fileURLWithPath: path("f")))
        chmod(path("f"), 0o640)
        try AtomicFile.write(Data("new".utf8), to: path("f"))
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: path("f"))[.posixPermissions] as? Int), 0o640)
        XCTAssertEqual(try String(contentsOfFile: path("f"), encoding: .utf8), "new")
    }

    func testDevicesAreWrittenThroughNotReplaced() throws {
        guard FileManager.default.fileExists(atPath: "/dev/null") else { throw XCTSkip("no /dev/null") }
        try AtomicFile.write(Data("x".utf8), to: "/dev/null")
        XCTAssertEqual(try type("/dev/null"), .typeCharacterSpecial)
        // Through a link to the device, too, and from each command.
        try FileManager.default.createSymbolicLink(atPath: path("null"), withDestinationPath: "/dev/null")
        let spec = path("net.arch")
        try "input x 4\nfc: linear 3\n".write(toFile: spec, atomically: true, encoding: .utf8)
        XCTAssertEqual(Driver.run(["init", spec, "-o", path("null")]).status, 0)
        XCTAssertEqual(Driver.run(["emit", "torch", spec, "-o", "/dev/null"]).status, 0)
        XCTAssertEqual(try type(path("null")), .typeSymbolicLink)
        XCTAssertEqual(try type("/dev/null"), .typeCharacterSpecial)
        if FileManager.default.fileExists(atPath: "/dev/full") {
            XCTAssertEqual(message { try AtomicFile.write(Data("x".utf8), to: "/dev/full") }, "/dev/full: error: cannot write: No space left on device")
            let r = Driver.run(["emit", "torch", spec, "-o", "/dev/full"])
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.stderr, "/dev/full: error: cannot write: No space left on device\n")
        }
        XCTAssertEqual(message { try AtomicFile.write(Data(), to: self.dir.path) }, "\(dir.path): error: is a directory")
    }

    func testFIFOIsWrittenThrough() throws {
        guard mkfifo(path("fifo"), 0o600) == 0 else { throw XCTSkip("no FIFO here") }
        let received = Pipe()  // the reader thread's result, handed over through a pipe
        let reader = Thread { [path = path("fifo")] in
            let d = FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() ?? Data()
            received.fileHandleForWriting.write(d)
            try? received.fileHandleForWriting.close()
        }
        reader.start()
        try AtomicFile.write(Data("through".utf8), to: path("fifo"))
        XCTAssertEqual(String(decoding: received.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "through")
        var info = stat()
        XCTAssertEqual(lstat(path("fifo"), &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "still a FIFO")
    }

    func testFailedWritesLeaveNoTemporaryFile() throws {
        try Data().write(to: URL(fileURLWithPath: path("plain")))
        XCTAssertTrue(message { try AtomicFile.write(Data("x".utf8), to: self.path("plain/out")) }.contains("cannot create a temporary file in"))
        XCTAssertEqual(try temporaries(), [])
        XCTAssertEqual(message { try AtomicFile.write(Data(), to: "") }, "error: the output path is empty")
    }

    /// A write that fails half way (a file-size limit stands in for a full disk) removes its
    /// temporary file and leaves the old output as it was, for every command that writes one.
    func testBinaryCleansUpAfterAFailedWrite() throws {
        guard let binary = StandardStreamsTests.binary else { throw XCTSkip("the archc executable is not built next to the tests") }
        let spec = path("net.arch")
        // An mlp, so that the emitted module (with its helper) is above the limit too.
        try "input x 64\nfc: linear 512\nout: mlp 64 out 10\n".write(toFile: spec, atomically: true, encoding: .utf8)
        XCTAssertEqual(Driver.run(["init", spec, "-o", path("w.safetensors")]).status, 0)
        try NPY.write(Tensor(shape: [64, 64], floats: Array(repeating: 0.5, count: 4096)), to: path("x.npy"))
        try Data("old".utf8).write(to: URL(fileURLWithPath: path("out")))
        for command in [["init", spec, "-o", path("out")], ["emit", "torch", spec, "-o", path("out")],
                        ["run", spec, "--weights", path("w.safetensors"), "--input", path("x.npy"), "--output", path("out")]] {
            // 1 KiB at most per file, and SIGXFSZ ignored so the write fails with EFBIG instead of killing.
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "trap '' XFSZ; ulimit -f 1 && exec \"$0\" \"$@\"", binary.path] + command
            let errors = Pipe()
            p.standardError = errors
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 1, "\(command[0]): \(said)")
            XCTAssertTrue(said.contains("\(path("out")): error: cannot write: File too large"), said)
            XCTAssertEqual(try temporaries(), [], command[0])
            XCTAssertEqual(try String(contentsOfFile: path("out"), encoding: .utf8), "old")
        }
    }

    /// SIGTERM while `init` writes its output: the handler removes the temporary file before the
    /// process ends. Skipped when the write finished before the signal could be sent.
    func testBinaryRemovesItsTemporaryFileWhenKilled() throws {
        guard let binary = StandardStreamsTests.binary else { throw XCTSkip("the archc executable is not built next to the tests") }
        let spec = path("net.arch")
        try "input x 2048\nfc: linear 4096\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = binary
        p.arguments = ["init", spec, "-o", path("w.safetensors")]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var sent = false
        while p.isRunning && !sent {
            if try !temporaries().isEmpty {
                kill(p.processIdentifier, SIGTERM)
                sent = true
            }
            usleep(500)
        }
        p.waitUntilExit()
        guard sent else { throw XCTSkip("init finished before its temporary file was seen") }
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertEqual(try temporaries(), [])
        // Had the rename won the race with the signal, the file would be whole.
        if FileManager.default.fileExists(atPath: path("w.safetensors")) { XCTAssertNoThrow(try SafeTensors.read(path: path("w.safetensors"))) }
    }
}
