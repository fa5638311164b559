import Foundation
import ArchDriver

// Output goes through write(2) with every error checked: a full disk is reported, a closed pipe
// ends quietly, neither traps. An interrupted write of an output file leaves no temporary file.
StandardStreams.prepareProcess()
let colour = Driver.wantsColour(stderrIsTerminal: isatty(STDERR_FILENO) == 1, environment: ProcessInfo.processInfo.environment)
let result = Driver.run(Array(CommandLine.arguments.dropFirst()), colour: colour)
exit(StandardStreams.finish(result))
