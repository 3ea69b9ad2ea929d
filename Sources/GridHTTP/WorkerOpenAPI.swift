import GridJSON

/// What every worker's OpenAPI document says alike, because the shared code makes it so: the
/// routes of ``Hummingbird/Router/addWorkerRoutes(metrics:scrape:openAPI:health:)``, the API-key
/// schemes of ``APIKeyAuthenticator`` and the error shape of ``APIRefusal``. A worker writes its
/// own paths and schemas; ``document(_:)`` adds these, so they cannot drift apart.
public enum WorkerOpenAPI {
    /// The worker's document with the shared parts added; a part the worker states itself (a
    /// scheme with its own description) is kept as the worker wrote it.
    /// - Precondition: `own` is a JSON object (a document in the source; tests serve every one).
    public static func document(_ own: String) -> String {
        guard case .object(var document)? = try? JSONValue(parsing: Array(own.utf8)) else {
            preconditionFailure("a worker's OpenAPI document is not a JSON object")
        }
        document["paths"] = merged(document["paths"], shared["paths"])
        var components = document["components"]?.objectValue ?? [:]
        for (name, part) in shared["components"]?.objectValue ?? [:] { components[name] = merged(components[name], part) }
        document["components"] = .object(components)
        return String(decoding: (try? JSONValue.object(document).jsonBytes()) ?? [], as: UTF8.self)
    }

    /// The worker's members first, the shared ones where the worker has none.
    private static func merged(_ own: JSONValue?, _ shared: JSONValue?) -> JSONValue {
        .object((shared?.objectValue ?? [:]).merging(own?.objectValue ?? [:]) { _, mine in mine })
    }

    private static let shared = try! JSONValue(
        parsing: Array(
            #"""
            {
              "paths": {
                "/healthz": {
                  "get": {"summary": "Liveness", "operationId": "health", "security": [], "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"type": "object"}}}}}}
                },
                "/metrics": {
                  "get": {"summary": "Prometheus metrics", "operationId": "metrics", "security": [], "responses": {"200": {"description": "The text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}
                },
                "/openapi.json": {
                  "get": {"summary": "This document", "operationId": "openapi", "security": [], "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {"schema": {"type": "object"}}}}}}
                }
              },
              "components": {
                "securitySchemes": {
                  "bearer": {"type": "http", "scheme": "bearer"},
                  "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
                },
                "responses": {
                  "Errors": {"description": "Refused: every field at fault and why", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
                  "Unauthorized": {"description": "No API key or an unknown one", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}}
                },
                "schemas": {
                  "Errors": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {"errors": {"type": "array", "items": {"type": "object", "required": ["field", "reason"], "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}}}
                  }
                }
              }
            }
            """#.utf8
        )
    )
}
