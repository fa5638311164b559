import Foundation
import ArchDriver

// Output goes through write(2) with every error checked: a full disk is reported, a closed pipe
// ends quietly, neither traps.
StandardStreams.ignoreBrokenPipes()
let result = Driver.run(Array(CommandLine.arguments.dropFirst()))
exit(StandardStreams.finish(result))
