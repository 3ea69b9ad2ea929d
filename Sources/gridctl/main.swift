import ArgumentParser
import Foundation
import GridConfiguration

/// Calls the async `run()`; on an existential the synchronous requirement (which prints help) wins.
func runAsync(_ command: inout some AsyncParsableCommand) async throws { try await command.run() }

// gridctl drains nothing and links no process set-up: Ctrl-C ends it, as users expect.
// Bad usage exits 2, as every GridBus program does (docs/operations.md), not ArgumentParser's 64;
// runtime failures exit 1.
if let renamed = Environment.renamedVariableInUse() {
    FileHandleOutput.standardError("gridctl: \(renamed)\n")
    exit(2)
}
do {
    var command = try GridctlCommand.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(&asyncCommand)
    } else {
        try command.run()
    }
} catch let failure as RuntimeFailure {
    FileHandleOutput.standardError("gridctl: \(failure)\n")
    exit(1)
} catch {
    let code = GridctlCommand.exitCode(for: error)
    if code == .success {
        GridctlCommand.exit(withError: error)  // --help and friends
    }
    FileHandleOutput.standardError(GridctlCommand.fullMessage(for: error) + "\n")
    exit(code == .validationFailure ? 2 : code.rawValue)
}
