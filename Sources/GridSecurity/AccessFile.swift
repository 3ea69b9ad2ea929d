import Foundation
import GridConfiguration
import ZeroMQ

/// The access file (`security.access-file`): identities that are not plugins — operators,
/// monitoring tools, external publishers.
///
/// ```yaml
/// identities:
///   - name: monitoring
///     key-file: keys/monitoring.key     # a public certificate, relative to this file
///     subscribe: ["*"]
///   - name: hotline-gateway
///     public-key: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
///     publish: [incident.reported]
/// ```
public enum AccessFile {
    public static func load(_ path: String) throws(DefinitionError) -> [Identity] {
        let root = try YAMLDefinition.load(file: path)
        try root.allowOnly(["identities"])
        let directory = (path as NSString).deletingLastPathComponent
        var identities: [Identity] = []
        for entry in try root.objectList("identities") {
            try entry.allowOnly(["name", "public-key", "key-file", "publish", "subscribe"])
            let name = try identityName(entry)
            let key: ZMQCurveKey
            switch (try entry.string("public-key"), try entry.string("key-file")) {
            case (let text?, nil):
                do { key = try ZMQCurveKey(z85: text) } catch { throw entry.error("public-key", "not a 40-character Z85 public key") }
            case (nil, let file?):
                do { key = try CurveCertificate.loadPublicKey(path: resolve(file, against: directory)) } catch {
                    throw entry.error("key-file", error.description)
                }
            case (.some, .some): throw entry.error("public-key", "give public-key or key-file, not both")
            case (nil, nil): throw entry.error("key-file", "is required (or public-key)")
            }
            identities.append(
                Identity(
                    name: name,
                    publicKey: key,
                    publish: try patterns(entry, "publish"),
                    subscribe: try patterns(entry, "subscribe"),
                    definedIn: path
                )
            )
        }
        return identities
    }

    /// Names appear in logs and metric labels: keep them short and plain.
    public static func identityName(_ entry: YAMLDefinition) throws(DefinitionError) -> String {
        let name = try entry.requiredString("name")
        guard name.utf8.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) else {
            throw entry.error("name", "'\(name)' must be at most 64 characters of letters, digits, '-', '_' and '.'")
        }
        return name
    }

    public static func patterns(_ entry: YAMLDefinition, _ field: String) throws(DefinitionError) -> [TopicPattern] {
        var patterns: [TopicPattern] = []
        for (index, text) in try entry.stringList(field).enumerated() {
            do { patterns.append(try TopicPattern(text)) } catch { throw entry.error("\(field)[\(index)]", error.reason) }
        }
        return patterns
    }

    public static func resolve(_ path: String, against directory: String) -> String {
        path.hasPrefix("/") || directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }
}
