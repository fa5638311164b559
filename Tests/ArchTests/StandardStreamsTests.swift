import Foundation
import XCTest
@testable import ArchDriver

/// Writing the output never traps: a full device is an error message and exit 1, a closed pipe a
/// quiet end; in-process through `StandardStreams.finish`, and through the built `archc` binary.
final class StandardStreamsTests: XCTestCase {
    /// The `archc` executable built next to the test bundle, if there is one.
    static var binary: URL? {
        let candidates = [Bundle(for: StandardStreamsTests.self).bundleURL.deletingLastPathComponent(),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        return candidates.map { $0.appendingPathComponent("archc") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs the binary with its standard output and error sent to the given handles; returns the status.
    static func runBinary(_ args: [String], stdout: Any, stderr: Any) throws -> Int32 {
        guard let binary else { throw XCTSkip("the archc executable is not built next to the tests") }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.standardOutput = stdout
        p.standardError = stderr
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "archc died of a signal")
        return p.terminationStatus
    }

    func open(_ path: String) throws -> Int32 {
        let fd = Foundation.open(path, O_WRONLY)
        guard fd >= 0 else { throw XCTSkip("\(path) cannot be opened here") }
        return fd
    }

    func testFullDeviceIsAnErrorNotATrap() throws {
        let full = try open("/dev/full")
        defer { close(full) }
        let errors = Pipe()
        let status = StandardStreams.finish(Driver.Output(stdout: "report\n", stderr: "", status: 0), stdout: full,
                                            stderr: errors.fileHandleForWriting.fileDescriptor)
        try errors.fileHandleForWriting.close()
        XCTAssertEqual(status, 1)
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(said, "archc: error: cannot write to standard output: No space left on device\n")
        // Standard error itself full: nothing can be said, the status says it.
        let null = try open("/dev/null")
        defer { close(null) }
        XCTAssertEqual(StandardStreams.finish(Driver.Output(stdout: "ok\n", stderr: "warning: w\n", status: 0), stdout: null, stderr: full), 1)
        XCTAssertEqual(StandardStreams.finish(Driver.Output(stdout: "", stderr: "error: e\n", status: 2), stdout: null, stderr: full), 2)
    }

    func testClosedPipeIsAQuietEnd() throws {
        StandardStreams.ignoreBrokenPipes()
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let errors = Pipe()
        let big = String(repeating: "x", count: 1 << 20)
        let status = StandardStreams.finish(Driver.Output(stdout: big, stderr: "", status: 0),
                                            stdout: pipe.fileHandleForWriting.fileDescriptor, stderr: errors.fileHandleForWriting.fileDescriptor)
        try errors.fileHandleForWriting.close()
        XCTAssertEqual(status, 0)
        XCTAssertEqual(errors.fileHandleForReading.readDataToEndOfFile().count, 0, "no message for a closed pipe")
        XCTAssertEqual(StandardStreams.write("x", to: pipe.fileHandleForWriting.fileDescriptor), .closedPipe)
        XCTAssertEqual(StandardStreams.write("x", to: -1), .failed(EBADF))
    }

    /// The cases, end to end: `params > /dev/full`, `ops > /dev/full`, `check bad 2> /dev/full`, `ops | head`.
    func testBinaryReportsWriteErrors() throws {
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        let spec = Support.specs.appendingPathComponent("mlp.arch").path
        for args in [["params", spec], ["ops"]] {
            let errors = Pipe()
            XCTAssertEqual(try Self.runBinary(args, stdout: full, stderr: errors), 1, "\(args)")
            let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(said, "archc: error: cannot write to standard output: No space left on device\n")
        }
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("archc-streams-\(getpid()).arch")
        try "input x 8\nlinear 0\n".write(to: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: bad) }
        XCTAssertEqual(try Self.runBinary(["check", bad.path], stdout: Pipe(), stderr: full), 1)
        XCTAssertEqual(try Self.runBinary(["params", spec], stdout: FileHandle.nullDevice, stderr: full), 0, "nothing went to stderr")
    }

    func testBinaryEndsQuietlyOnAClosedPipe() throws {
        let out = Pipe(), errors = Pipe()
        try out.fileHandleForReading.close()
        XCTAssertEqual(try Self.runBinary(["ops", "--markdown"], stdout: out, stderr: errors), 0)
        XCTAssertEqual(errors.fileHandleForReading.readDataToEndOfFile().count, 0)
    }
}
