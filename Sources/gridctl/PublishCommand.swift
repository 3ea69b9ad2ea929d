import ArgumentParser
import Foundation
import GridBusClient
import GridConfiguration
import GridJSON
import GridSchema
import ZeroMQ

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one event and print its sequence.",
        discussion: """
            Builds a CloudEvent from the options, or sends --event-file as it is. Publishing the same
            --source and --id again is harmless: the bus answers with the original sequence.
            Example: gridctl publish --type incident.reported --grid G-01-01-01 --data '{"schemaVersion":1,...}'
            """
    )

    @OptionGroup var bus: BusOptions
    @Option(help: "Event type, e.g. incident.reported (see docs/events.md).") var type: String?
    @Option(help: "CloudEvent subject, e.g. the incident id.") var subject: String?
    @Option(help: "Grid id; becomes part of the topic.") var grid: String?
    @Option(help: "CloudEvent source.") var source: String = "gridctl"
    @Option(help: "CloudEvent id (default: a new UUID).") var id: String?
    @Option(help: "The event's data, as a JSON object.") var data: String?
    @Option(help: "Read the event's data from a JSON file.") var dataFile: String?
    @Option(help: "Send a whole CloudEvent JSON file as it is ('-' for stdin).") var eventFile: String?

    func validate() throws {
        if eventFile == nil && type == nil { throw ValidationError("give --type (or a whole event with --event-file)") }
        if data != nil && dataFile != nil { throw ValidationError("give --data or --data-file, not both") }
    }

    func run() async throws {
        let bytes: [UInt8]
        if let eventFile {
            let contents = eventFile == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: eventFile)
            guard let contents else { throw ValidationError("--event-file: cannot read \(eventFile)") }
            bytes = Array(contents)
        } else {
            var payload: JSONValue?
            if let text = try data ?? dataFile.map(readFile) {
                do { payload = try JSONValue(parsing: Array(text.utf8)) } catch {
                    throw ValidationError("--data: not valid JSON (\(error))")
                }
                guard case .object? = payload else { throw ValidationError("--data: the data must be a JSON object") }
            }
            var event = CloudEvent(source: source, type: type!, subject: subject, grid: grid, data: payload)
            if let id { event.id = id }
            do { try event.validate() } catch { throw ValidationError("\(error)") }
            bytes = try event.jsonBytes()
        }
        let publisher = DirectPublisher(context: ZMQContext(), endpoint: bus.ingress, credentials: try bus.credentials())
        do {
            let sequence = try await publisher.publish(bytes, timeout: bus.timeoutDuration)
            FileHandleOutput.standardOutput("\(sequence)\n")
        } catch let error as BusClientError {
            await publisher.close()
            throw RuntimeFailure("publish failed: \(error)")
        }
        await publisher.close()
    }

    private func readFile(_ path: String) throws -> String {
        guard let contents = FileManager.default.contents(atPath: path) else { throw ValidationError("--data-file: cannot read \(path)") }
        return String(decoding: contents, as: UTF8.self)
    }
}
