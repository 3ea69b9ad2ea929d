/// The OpenAPI 3 description of grid-intake's whole HTTP API, served at `/openapi.json`. The
/// interop suite checks it against the running server (every path answers as documented, and
/// schemathesis finds no 5xx).
/// Its own paths and schemas only: `WorkerOpenAPI` adds `/healthz`, `/metrics`, `/openapi.json`,
/// the API-key schemes and the error shape, which every worker shares.
enum IntakeOpenAPI {
    static let json = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "grid-intake",
            "version": "1.0.0",
            "description": "Incident intake of GridBus: a native JSON API and Open311 GeoReport v2. Every accepted report is committed before it is acknowledged and reaches the bus as incident.reported."
          },
          "servers": [{"url": "/"}],
          "security": [{"bearer": []}, {"apiKeyHeader": []}],
          "paths": {
            "/v1/incidents": {
              "post": {
                "summary": "Report an incident",
                "operationId": "createIncident",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewIncident"}}}},
                "responses": {
                  "201": {"description": "Filed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Incident"}}}},
                  "200": {"description": "A retry: the incident filed before", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Incident"}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "413": {"$ref": "#/components/responses/Errors"},
                  "422": {"$ref": "#/components/responses/Errors"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              },
              "get": {
                "summary": "List incidents, newest first",
                "operationId": "listIncidents",
                "parameters": [
                  {"name": "grid", "in": "query", "schema": {"type": "string"}, "description": "Grid ids, comma-separated"},
                  {"name": "category", "in": "query", "schema": {"type": "string"}, "description": "Category codes, comma-separated"},
                  {"name": "status", "in": "query", "schema": {"type": "string"}, "description": "Statuses, comma-separated"},
                  {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                  {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                  {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next from the previous page"}
                ],
                "responses": {
                  "200": {"description": "A page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IncidentPage"}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/v1/incidents/{id}": {
              "get": {
                "summary": "One incident with its status timeline",
                "operationId": "getIncident",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                  "200": {"description": "The incident", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Incident"}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/Errors"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/open311/v2/services.{format}": {
              "get": {
                "summary": "Open311: the services (catalogue categories)",
                "operationId": "open311Services",
                "security": [],
                "parameters": [{"$ref": "#/components/parameters/Format"}],
                "responses": {"200": {"$ref": "#/components/responses/Open311"}, "404": {"$ref": "#/components/responses/Open311Error"}}
              }
            },
            "/open311/v2/services/{service_code}.{format}": {
              "get": {
                "summary": "Open311: one service's definition (its attributes)",
                "operationId": "open311ServiceDefinition",
                "security": [],
                "parameters": [{"name": "service_code", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/Format"}],
                "responses": {"200": {"$ref": "#/components/responses/Open311"}, "404": {"$ref": "#/components/responses/Open311Error"}}
              }
            },
            "/open311/v2/requests.{format}": {
              "post": {
                "summary": "Open311: submit a service request",
                "operationId": "open311CreateRequest",
                "security": [],
                "parameters": [{"$ref": "#/components/parameters/Format"}],
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Open311NewRequest"}}}},
                "responses": {
                  "201": {"$ref": "#/components/responses/Open311"},
                  "400": {"$ref": "#/components/responses/Open311Error"},
                  "403": {"$ref": "#/components/responses/Open311Error"},
                  "404": {"$ref": "#/components/responses/Open311Error"},
                  "413": {"$ref": "#/components/responses/Open311Error"},
                  "429": {"$ref": "#/components/responses/Open311Error"}
                }
              },
              "get": {
                "summary": "Open311: service requests (default: the last 90 days, at most 1000)",
                "operationId": "open311Requests",
                "security": [],
                "parameters": [
                  {"$ref": "#/components/parameters/Format"},
                  {"name": "service_request_id", "in": "query", "schema": {"type": "string"}},
                  {"name": "service_code", "in": "query", "schema": {"type": "string"}},
                  {"name": "start_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                  {"name": "end_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                  {"name": "status", "in": "query", "schema": {"type": "string"}},
                  {"name": "jurisdiction_id", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {"200": {"$ref": "#/components/responses/Open311"}, "400": {"$ref": "#/components/responses/Open311Error"}, "404": {"$ref": "#/components/responses/Open311Error"}}
              }
            },
            "/open311/v2/requests/{service_request_id}.{format}": {
              "get": {
                "summary": "Open311: one service request",
                "operationId": "open311Request",
                "security": [],
                "parameters": [{"name": "service_request_id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/Format"}],
                "responses": {"200": {"$ref": "#/components/responses/Open311"}, "404": {"$ref": "#/components/responses/Open311Error"}}
              }
            },
            "/open311/v2/tokens/{token}.{format}": {
              "get": {
                "summary": "Open311: the service request behind a token",
                "operationId": "open311Token",
                "security": [],
                "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/Format"}],
                "responses": {"200": {"$ref": "#/components/responses/Open311"}, "404": {"$ref": "#/components/responses/Open311Error"}}
              }
            }
          },
          "components": {
            "parameters": {
              "Format": {"name": "format", "in": "path", "required": true, "schema": {"type": "string", "enum": ["json", "xml"]}}
            },
            "responses": {
              "Open311": {"description": "Open311 answer", "content": {"application/json": {"schema": {}}, "text/xml": {"schema": {"type": "string"}}}},
              "Open311Error": {"description": "Open311 errors", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}}, "text/xml": {"schema": {"type": "string"}}}}
            },
            "schemas": {
              "NewIncident": {
                "type": "object",
                "additionalProperties": false,
                "required": ["category", "description"],
                "properties": {
                  "category": {"type": "string", "maxLength": 32, "example": "E-01-02"},
                  "description": {"type": "string", "minLength": 1, "maxLength": 4000},
                  "priority": {"type": "string", "enum": ["normal", "urgent", "emergency"]},
                  "channel": {"type": "string", "enum": ["app", "hotline", "iot", "patrol", "other"]},
                  "grid": {"type": "string", "maxLength": 64},
                  "location": {"$ref": "#/components/schemas/Location"},
                  "address": {"type": "string", "maxLength": 500},
                  "reporter": {"$ref": "#/components/schemas/Reporter"},
                  "mediaUrls": {"type": "array", "maxItems": 10, "items": {"type": "string", "format": "uri"}},
                  "externalId": {"type": "string", "minLength": 1, "maxLength": 128},
                  "reportedAt": {"type": "string", "format": "date-time"}
                }
              },
              "Location": {
                "type": "object",
                "additionalProperties": false,
                "required": ["latitude", "longitude"],
                "properties": {"latitude": {"type": "number", "minimum": -90, "maximum": 90}, "longitude": {"type": "number", "minimum": -180, "maximum": 180}}
              },
              "Reporter": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"name": {"type": "string", "maxLength": 200}, "phone": {"type": "string", "maxLength": 40}, "wantsUpdates": {"type": "boolean"}}
              },
              "TimelineEntry": {
                "type": "object",
                "required": ["type", "at"],
                "properties": {"status": {"type": "string"}, "type": {"type": "string"}, "at": {"type": "string", "format": "date-time"}, "note": {"type": "string"}, "step": {"type": "integer", "description": "the dispatcher's step for the case; the timeline is in step order"}}
              },
              "Incident": {
                "type": "object",
                "required": ["id", "token", "status", "category", "serviceCode", "description", "priority", "channel", "mediaUrls", "attributes", "client", "agency", "reportedAt", "createdAt", "updatedAt", "timeline"],
                "properties": {
                  "id": {"type": "string"},
                  "token": {"type": "string"},
                  "status": {"type": "string", "enum": ["reported", "triage", "registered", "rejected", "merged", "dispatched", "acknowledged", "in-progress", "returned", "suspended", "handled", "verified", "rework", "closed", "reopened"]},
                  "category": {"type": "string"},
                  "serviceCode": {"type": "string"},
                  "description": {"type": "string"},
                  "priority": {"type": "string", "enum": ["normal", "urgent", "emergency"]},
                  "channel": {"type": "string"},
                  "grid": {"type": "string"},
                  "location": {"$ref": "#/components/schemas/Location"},
                  "address": {"type": "string"},
                  "reporter": {"type": "object"},
                  "mediaUrls": {"type": "array", "items": {"type": "string"}},
                  "externalId": {"type": "string"},
                  "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
                  "client": {"type": "string"},
                  "agency": {"type": "string"},
                  "reportedAt": {"type": "string", "format": "date-time"},
                  "createdAt": {"type": "string", "format": "date-time"},
                  "updatedAt": {"type": "string", "format": "date-time"},
                  "deadline": {"type": "string", "format": "date-time"},
                  "statusNotes": {"type": "string"},
                  "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/TimelineEntry"}}
                }
              },
              "IncidentPage": {
                "type": "object",
                "required": ["incidents"],
                "properties": {"incidents": {"type": "array", "items": {"$ref": "#/components/schemas/Incident"}}, "next": {"type": "string", "nullable": true}}
              },
              "Open311Errors": {
                "type": "array",
                "items": {"type": "object", "required": ["code", "description"], "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}
              },
              "Open311NewRequest": {
                "type": "object",
                "required": ["api_key", "service_code"],
                "properties": {
                  "api_key": {"type": "string"},
                  "jurisdiction_id": {"type": "string"},
                  "service_code": {"type": "string"},
                  "lat": {"type": "number"},
                  "long": {"type": "number"},
                  "address_string": {"type": "string"},
                  "address_id": {"type": "string"},
                  "email": {"type": "string"},
                  "device_id": {"type": "string"},
                  "account_id": {"type": "string"},
                  "first_name": {"type": "string"},
                  "last_name": {"type": "string"},
                  "phone": {"type": "string"},
                  "description": {"type": "string", "maxLength": 4000},
                  "media_url": {"type": "string"}
                }
              }
            }
          }
        }
        """#
}
