import Foundation
import GridConfiguration
import GridJSON
import GridPlugins
import GridSchema
import Logging

/// A channel plugin: an executable run once per message with the envelope as JSON on stdin.
/// Exit 0 is delivered (stdout may hold `{"providerMessageId": "…"}`), 75 (EX_TEMPFAIL) is try
/// again, anything else has failed for good; a run past `timeout` is killed with its process
/// group and tried again. stderr is kept for the log and the failure reason.
public struct ExecChannel: NotificationChannel {
    public let name: String
    public let executable: String
    public let arguments: [String]
    public let environment: [String: String]
    public let directory: String
    public let contact: ContactKind
    public let style: MessageStyle
    public let timeout: Double
    public let concurrency: Int
    let logger: Logger

    public static let temporaryFailure: Int32 = 75

    public func deliver(_ envelope: Envelope) async -> DeliveryOutcome {
        let input: [UInt8]
        do { input = try envelopeEncoder.encode(envelope) } catch { return .failed("cannot encode: \(error)") }
        let result: OneShotProcess.Result
        do {
            result = try await OneShotProcess.run(
                executable: executable,
                arguments: arguments,
                environment: environment,
                directory: directory,
                input: input,
                timeout: timeout
            )
        } catch {
            return .failed("\(error)")
        }
        let errors = String(decoding: result.standardError, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !errors.isEmpty {
            logger.info(
                "channel plugin said",
                metadata: ["channel": "\(name)", "message": "\(envelope.messageId)", "stderr": "\(errors.prefix(500))"]
            )
        }
        let detail = errors.isEmpty ? "" : ": \(errors.prefix(300))"
        if result.timedOut { return .retry("killed after \(timeout)s without finishing") }
        switch result.status?.code {
        case 0?:
            let answer = try? JSONValue(parsing: result.standardOutput)
            return .delivered(providerMessageId: answer?["providerMessageId"]?.stringValue)
        case Self.temporaryFailure?: return .retry("exit 75 (try again)\(detail)")
        default: return .failed("\(result.status?.description ?? "no status")\(detail)")
        }
    }
}

/// A channel plugin's manifest, `plugins/channels/NAME.yaml`:
///
/// ```yaml
/// name: sms
/// executable: sms-gateway.sh      # relative to the manifest, or absolute
/// contact: phone                  # phone, email, webhook or none
/// style: short                    # short, long or structured
/// timeout: 10s
/// concurrency: 4
/// environment: {SMS_GATEWAY_URL: "http://127.0.0.1:9000/send"}
/// ```
public enum ExecChannelManifest {
    public static func load(_ file: String, logger: Logger) throws(DefinitionError) -> ExecChannel {
        let root = try YAMLDefinition.load(file: file)
        try root.allowOnly(["name", "executable", "arguments", "contact", "style", "timeout", "concurrency", "environment"])
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let name = try root.requiredString("name")
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw root.error("name", "'\(name)' may hold letters, digits, '-' and '_' only")
        }
        var executable = try root.requiredString("executable")
        if !executable.hasPrefix("/") { executable = directory + "/" + executable }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw root.error("executable", "\(executable) is not an executable file")
        }
        let timeout = try root.duration("timeout", default: 10)
        guard timeout > 0 && timeout <= 600 else { throw root.error("timeout", "must be above 0 and at most 10m") }
        var environment = ProcessInfo.processInfo.environment.filter { ["PATH", "LANG", "HOME", "TZ"].contains($0.key) }
        for (key, value) in try root.stringMap("environment") { environment[key] = value }
        return ExecChannel(
            name: name,
            executable: executable,
            arguments: try root.stringList("arguments"),
            environment: environment,
            directory: directory,
            contact: try root.choice("contact", default: ContactKind.none),
            style: try root.choice("style", default: MessageStyle.short),
            timeout: timeout,
            concurrency: try root.int("concurrency", default: 4, in: 1...64),
            logger: logger
        )
    }

    /// Every `*.yaml` in the directory, by name; a missing directory has none.
    public static func loadAll(directory: String, logger: Logger) throws(DefinitionError) -> [ExecChannel] {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var channels: [ExecChannel] = []
        for file in files.sorted() where file.hasSuffix(".yaml") {
            let channel = try load(directory + "/" + file, logger: logger)
            guard !channels.contains(where: { $0.name == channel.name }) else {
                throw DefinitionError(
                    file: directory + "/" + file,
                    field: "name",
                    reason: "another channel plugin is already called '\(channel.name)'"
                )
            }
            channels.append(channel)
        }
        return channels
    }
}
