import ArgumentParser
import Foundation
import GridConfiguration
import GridSchema

struct SchemasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas",
        abstract: "Write the JSON Schema files of the envelope and every payload.",
        discussion: "The repository keeps them in schemas/ (make schemas); a test fails when they drift from the Swift types."
    )

    @Argument(help: "Directory to write into.") var directory: String = "schemas"

    func run() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in SchemaCatalog.files().sorted(by: { $0.key < $1.key }) {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        FileHandleOutput.standardOutput("wrote \(SchemaCatalog.files().count) schema files to \(directory)\n")
    }
}
