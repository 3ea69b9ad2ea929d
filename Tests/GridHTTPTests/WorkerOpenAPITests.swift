import GridHTTP
import GridJSON
import Testing

@testable import GridDispatch
@testable import GridIntake
@testable import GridNotify
@testable import GridStats

/// Every worker's served document: its own paths with the shared ones, every `$ref` resolving,
/// one operation id per operation. (The interop suite then fuzzes each against its server.)
@Suite struct WorkerOpenAPITests {
    static let documents = [
        ("grid-intake", IntakeOpenAPI.json, "/v1/incidents"),
        ("grid-dispatcher", DispatcherOpenAPI.json, "/v1/cases/{id}"),
        ("grid-notifier", NotifierOpenAPI.json, "/v1/silences"),
        ("grid-stats", StatsOpenAPI.json, "/api/v1/indicators"),
    ]

    @Test(arguments: documents)
    func theServedDocumentIsWholeAndConsistent(worker: String, own: String, ownPath: String) throws {
        let document = try JSONValue(parsing: Array(WorkerOpenAPI.document(own).utf8))
        let paths = try #require(document["paths"]?.objectValue, "\(worker): no paths")
        for path in ["/healthz", "/metrics", "/openapi.json", ownPath] { #expect(paths[path] != nil, "\(worker): \(path) missing") }

        var references: [String] = []
        var operationIDs: [String] = []
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if let target = members["$ref"]?.stringValue { references.append(target) }
                if let id = members["operationId"]?.stringValue { operationIDs.append(id) }
                members.values.forEach(walk)
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(document)
        #expect(!references.isEmpty)
        for reference in Set(references) {
            // "#/components/schemas/Errors" → components → schemas → Errors
            let found = reference.dropFirst(2).split(separator: "/").reduce(Optional(document)) { node, name in node?[String(name)] }
            #expect(found != nil, "\(worker): \(reference) does not resolve")
        }
        #expect(Set(operationIDs).count == operationIDs.count, "\(worker): an operationId is used twice")
    }

    @Test func aSchemeTheWorkerDescribesItselfIsKept() throws {
        let document = try JSONValue(parsing: Array(WorkerOpenAPI.document(DispatcherOpenAPI.json).utf8))
        let bearer = document["components"]?["securitySchemes"]?["bearer"]
        #expect(bearer?["description"]?.stringValue?.contains("handler") == true)
        #expect(document["components"]?["securitySchemes"]?["apiKeyHeader"] != nil)
    }
}
