import Foundation
import ArchIO

/// The process's standard output and error, written with write(2) and every error checked, never a
/// trap: a full disk or a closed descriptor is reported (`archc: error: cannot write to standard
/// output: No space left on device`) and the exit status is 1; a reader that went away (EPIPE, as
/// in `archc ops | head -1`) ends the output quietly with the command's own status, as ripgrep does
/// and as `cat` does without a message.
public enum StandardStreams {
    /// What writing to a descriptor came to.
    public enum WriteResult: Equatable, Sendable {
        case written
        /// The reading end of a pipe was closed.
        case closedPipe
        /// Any other error, with its errno.
        case failed(Int32)
    }

    /// Ignores SIGPIPE, so a closed pipe is an EPIPE error from write(2) rather than the death of the
    /// process. Call once, before writing.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// What the executable does first: SIGPIPE ignored, and an output file's temporary file removed
    /// when SIGINT, SIGTERM or SIGHUP ends the process.
    public static func prepareProcess() {
        ignoreBrokenPipes()
        AtomicFile.removeTemporaryFileOnSignals()
    }

    /// Writes every byte to `fd`, continuing after partial writes and interruptions.
    public static func write(_ text: String, to fd: Int32) -> WriteResult {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { buffer -> WriteResult in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno == EPIPE ? .closedPipe : .failed(errno)
                }
                offset += n
            }
            return .written
        }
    }

    /// Writes a command's output (stdout first, then stderr) and returns the exit status for it:
    /// the command's status, or 1 when something could not be written (a closed pipe excepted).
    public static func finish(_ output: Driver.Output, stdout: Int32 = STDOUT_FILENO, stderr: Int32 = STDERR_FILENO) -> Int32 {
        var status = output.status
        let out = output.stdout.isEmpty ? .written : write(output.stdout, to: stdout)
        var err = output.stderr.isEmpty ? .written : write(output.stderr, to: stderr)
        if case .failed(let code) = out {
            if err == .written { err = write("archc: error: cannot write to standard output: \(describe(code))\n", to: stderr) }
            status = max(status, 1)
        }
        // Nowhere is left to say that standard error failed; the status says it.
        if case .failed = err { status = max(status, 1) }
        return status
    }

    /// `No space left on device`
    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}
