import Foundation
import GridConfiguration

#if canImport(Glibc)
import Glibc
#endif

/// How the workers' `rebuild` commands report: a progress bar while the journal is replayed (on a
/// terminal only), then what was rebuilt and whether it equals the live store.
public enum RebuildOutput {
    public static let isTerminal = isatty(STDERR_FILENO) == 1

    /// `sequence` of `head` replayed so far.
    public static func progress(_ sequence: UInt64, _ head: UInt64) {
        guard isTerminal, head > 0 else { return }
        let width = 40
        let done = Int(sequence * UInt64(width) / head)
        let bar = String(repeating: "█", count: done) + String(repeating: "░", count: width - done)
        FileHandleOutput.standardError("\r\(bar) \(sequence)/\(head) (\(sequence * 100 / head)%)")
    }

    /// Prints `summary` and the comparison, and exits: 0 when equal (or no live store to compare
    /// with), 1 when they differ.
    public static func finish(summary: String, differences: [String]?) -> Never {
        if isTerminal { FileHandleOutput.standardError("\n") }
        var output = summary + "\n"
        switch differences {
        case nil: output += "no live store to compare with\n"
        case let differences? where differences.isEmpty: output += "equal to the live store\n"
        case let differences?: output += "differs from the live store:\n" + differences.map { "  \($0)\n" }.joined()
        }
        FileHandleOutput.standardOutput(output)
        exit(differences?.isEmpty == false ? 1 : 0)
    }
}

extension RebuildOutput {
    /// Runs a worker's `rebuild` command and exits: 0 when the rebuilt store equals the live one
    /// (or there is none to compare with), 1 when they differ or the rebuild failed (the reason on
    /// stderr), 2 for a definition file that is wrong.
    public static func rebuild(
        _ program: String,
        _ body: () async throws -> (summary: String, differences: [String]?)
    ) async -> Never {
        do {
            let (summary, differences) = try await body()
            finish(summary: summary, differences: differences)
        } catch let error as DefinitionError {
            ProgramStart.exitForBadDefinition(program, error)
        } catch {
            if isTerminal { FileHandleOutput.standardError("\n") }
            FileHandleOutput.standardError("\(program) rebuild: \(error)\n")
            exit(1)
        }
    }
}
