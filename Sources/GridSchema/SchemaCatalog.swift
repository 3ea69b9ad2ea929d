import GridJSON

/// The JSON Schema files exported to `schemas/` for non-Swift peers: one for the envelope and one per payload.
public enum SchemaCatalog {
    public static let envelopeFileName = "cloudevent.schema.json"

    /// File name → canonical file text.
    public static func files() -> [String: String] {
        var files = [envelopeFileName: envelope.canonicalText()]
        for type in EventType.allCases {
            let payload = type.payloadType
            files[payload.schemaFileName] = payload.schema.document(
                id: payload.schemaURI,
                title: "\(type.rawValue) data",
                description: "The data of a \(type.rawValue) event, schema version \(payload.currentSchemaVersion)."
            ).canonicalText()
        }
        return files
    }

    /// The CloudEvents 1.0 JSON envelope as GridBus restricts it.
    public static var envelope: JSONValue {
        let envelope = JSONSchema.object(
            [
                .required("specversion", .string(enumeration: [EnvelopeRules.specVersion])),
                .required("id", .string(maxLength: EnvelopeRules.maximumIDLength)),
                .required("source", .string(maxLength: EnvelopeRules.maximumSourceLength)),
                .required("type", .string(enumeration: EventType.allCases.map(\.rawValue))),
                .optional("time", .dateTime),
                .optional("subject", .string()),
                .optional("datacontenttype", .string()),
                .optional("dataschema", .string()),
                .optional("data", .freeObject),
                .optional(
                    EnvelopeRules.gridAttribute,
                    .string(maxLength: EnvelopeRules.maximumGridLength),
                    "The grid the event concerns; part of the topic"
                ),
                .optional(
                    EnvelopeRules.sequenceAttribute,
                    .integer(minimum: 1),
                    "Global sequence, spliced in by gridbusd when it journals the event"
                ),
            ],
            additionalProperties: true
        )
        guard
            case .object(var fields) = envelope.document(
                id: "https://gridbus.dev/schemas/cloudevent.json",
                title: "GridBus CloudEvent",
                description: "A CloudEvents 1.0 event in JSON format as carried by GridBus."
            )
        else { return envelope.jsonValue }
        // Extension attributes are lower-case alphanumerics holding scalars (CloudEvents 1.0).
        fields["propertyNames"] = .object(["pattern": .string("^([a-z0-9]{1,20}|data_base64)$")])
        fields["patternProperties"] = .object([
            "^[a-z0-9]{1,20}$": .object([
                "type": .array([.string("string"), .string("number"), .string("integer"), .string("boolean"), .string("object")])
            ])
        ])
        return .object(fields)
    }
}
