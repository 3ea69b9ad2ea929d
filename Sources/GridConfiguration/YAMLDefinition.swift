import Foundation
import Yams

/// A mistake in a definition file (a plugin manifest, the access file): which file, which field, why.
public struct DefinitionError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// A path such as `identities[2].publish[0]`; empty for the file as a whole.
    public var field: String
    public var reason: String

    public init(file: String, field: String, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? "\(file): \(reason)" : "\(file): field '\(field)': \(reason)" }
}

/// One YAML mapping of a definition file, read strictly: every field has a type, unknown fields
/// are refused with a suggestion, and every error names the file and the field's path.
public struct YAMLDefinition {
    public let file: String
    public let path: String
    let mapping: Yams.Node.Mapping

    /// Reads a file whose top level is a mapping.
    public static func load(file: String) throws(DefinitionError) -> YAMLDefinition {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw DefinitionError(file: file, field: "", reason: "cannot read the file: \((error as NSError).localizedDescription)")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws(DefinitionError) -> YAMLDefinition {
        let node: Yams.Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw DefinitionError(file: file, field: "", reason: "not valid YAML: \(error)")
        }
        guard let node, case .mapping(let mapping) = node else {
            throw DefinitionError(file: file, field: "", reason: "the top level must be a mapping of fields")
        }
        return YAMLDefinition(file: file, path: "", mapping: mapping)
    }

    public func error(_ field: String, _ reason: String) -> DefinitionError {
        DefinitionError(file: file, field: qualified(field), reason: reason)
    }

    /// Refuses fields other than `known`.
    public func allowOnly(_ known: [String]) throws(DefinitionError) {
        for key in mapping.keys {
            let name = key.string ?? "\(key)"
            guard !known.contains(name) else { continue }
            var reason = "unknown field"
            if let suggestion = known.min(by: { GridConfigReader.editDistance($0, name) < GridConfigReader.editDistance($1, name) }),
                GridConfigReader.editDistance(suggestion, name) <= 3
            {
                reason += "; did you mean '\(suggestion)'?"
            }
            reason += " (fields: \(known.joined(separator: ", ")))"
            throw error(name, reason)
        }
    }

    public func has(_ field: String) -> Bool { mapping[Yams.Node(field)] != nil }

    /// The mapping's field names, in file order.
    public var keys: [String] { mapping.keys.map { $0.string ?? "\($0)" } }

    public func string(_ field: String) throws(DefinitionError) -> String? {
        guard let node = mapping[Yams.Node(field)] else { return nil }
        guard case .scalar(let scalar) = node, node.tag.description != "tag:yaml.org,2002:null" else {
            throw error(field, "must be a text value")
        }
        return scalar.string
    }

    public func requiredString(_ field: String) throws(DefinitionError) -> String {
        guard let value = try string(field) else { throw error(field, "is required") }
        guard !value.isEmpty else { throw error(field, "must not be empty") }
        return value
    }

    public func stringList(_ field: String) throws(DefinitionError) -> [String] {
        guard let node = mapping[Yams.Node(field)] else { return [] }
        guard case .sequence(let sequence) = node else { throw error(field, "must be a list of text values") }
        var values: [String] = []
        for (index, item) in sequence.enumerated() {
            guard case .scalar(let scalar) = item else { throw error("\(field)[\(index)]", "must be a text value") }
            values.append(scalar.string)
        }
        return values
    }

    public func stringMap(_ field: String) throws(DefinitionError) -> [(String, String)] {
        guard let node = mapping[Yams.Node(field)] else { return [] }
        guard case .mapping(let map) = node else { throw error(field, "must be a mapping of names to text values") }
        var pairs: [(String, String)] = []
        for (key, value) in map {
            guard case .scalar(let scalar) = value else { throw error("\(field).\(key.string ?? "?")", "must be a text value") }
            pairs.append((key.string ?? "", scalar.string))
        }
        return pairs
    }

    public func int(_ field: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(DefinitionError) -> Int {
        guard let text = try string(field) else { return defaultValue }
        guard let value = Int(text) else { throw error(field, "'\(text)' is not an integer") }
        guard range.contains(value) else { throw error(field, "\(value) must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    /// A duration such as `500ms`, `30s`, `5m`, in seconds.
    public func duration(_ field: String, default defaultValue: Double) throws(DefinitionError) -> Double {
        guard let text = try string(field) else { return defaultValue }
        guard let value = GridConfigReader.parseDuration(text) else { throw error(field, "'\(text)' is not a duration (e.g. 500ms, 30s, 5m)") }
        return value
    }

    public func choice<Choice: RawRepresentable & CaseIterable>(_ field: String, default defaultValue: Choice) throws(DefinitionError) -> Choice
    where Choice.RawValue == String {
        guard let text = try string(field) else { return defaultValue }
        guard let value = Choice(rawValue: text) else {
            throw error(field, "'\(text)' is not one of: \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// A nested mapping, or nil when absent.
    public func object(_ field: String) throws(DefinitionError) -> YAMLDefinition? {
        guard let node = mapping[Yams.Node(field)] else { return nil }
        guard case .mapping(let nested) = node else { throw error(field, "must be a mapping of fields") }
        return YAMLDefinition(file: file, path: qualified(field), mapping: nested)
    }

    /// A list of mappings.
    public func objectList(_ field: String) throws(DefinitionError) -> [YAMLDefinition] {
        guard let node = mapping[Yams.Node(field)] else { return [] }
        guard case .sequence(let sequence) = node else { throw error(field, "must be a list") }
        var objects: [YAMLDefinition] = []
        for (index, item) in sequence.enumerated() {
            guard case .mapping(let nested) = item else { throw error("\(field)[\(index)]", "must be a mapping of fields") }
            objects.append(YAMLDefinition(file: file, path: qualified("\(field)[\(index)]"), mapping: nested))
        }
        return objects
    }

    private func qualified(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }
}
