/// The OpenAPI 3 description of grid-dispatcher's HTTP API, served at `/openapi.json`: what a
/// handler app's backend or an operator's console generates its client from. The interop suite
/// checks it against the running server (schemathesis: every answer as documented, no 5xx).
/// Its own paths and schemas only: `WorkerOpenAPI` adds `/healthz`, `/metrics`, `/openapi.json`,
/// the API-key schemes and the error shape, which every worker shares.
enum DispatcherOpenAPI {
    static let json = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "grid-dispatcher",
            "version": "1.0.0",
            "description": "Cases of GridBus: handlers' actions through the lifecycle and operators' commands. Every change commits with the events it publishes (incident.*, grid.mode.changed)."
          },
          "servers": [{"url": "/"}],
          "security": [{"bearer": []}, {"apiKeyHeader": []}],
          "paths": {
            "/v1/cases/{id}": {
              "get": {
                "summary": "One case: state, assignees, deadlines, escalation, timer",
                "operationId": "getCase",
                "parameters": [{"$ref": "#/components/parameters/CaseID"}],
                "responses": {
                  "200": {"description": "The case", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Errors"},
                  "404": {"$ref": "#/components/responses/Errors"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/v1/cases/{id}/{action}": {
              "post": {
                "summary": "A handler's or operator's action on a case (place: operators only)",
                "operationId": "actOnCase",
                "parameters": [
                  {"$ref": "#/components/parameters/CaseID"},
                  {"name": "action", "in": "path", "required": true, "schema": {"type": "string", "enum": ["acknowledge", "start", "handle", "return", "extend", "suspend", "resume", "verify-pass", "verify-fail", "close", "reopen", "claim", "place"]}},
                  {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 200}, "description": "A retry with the same key answers with the case as it is"}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Action"}}}},
                "responses": {
                  "200": {"description": "Done: the case after the action", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Errors"},
                  "404": {"$ref": "#/components/responses/Errors"},
                  "409": {"description": "Not allowed in the case's state: the state and the actions allowed now", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Conflict"}}}},
                  "413": {"$ref": "#/components/responses/Errors"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/v1/modes": {
              "post": {
                "summary": "Switch a grid, community, town or the district to emergency mode or back (operators)",
                "operationId": "setMode",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModeRequest"}}}},
                "responses": {
                  "200": {"description": "Switched", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModeChange"}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "403": {"$ref": "#/components/responses/Errors"},
                  "404": {"$ref": "#/components/responses/Errors"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "bearer": {"type": "http", "scheme": "bearer", "description": "An API key with the handler or operator scope"}
            },
            "parameters": {
              "CaseID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "The incident's id (inc-…)"}
            },
            "schemas": {
              "Conflict": {
                "type": "object",
                "required": ["errors", "state", "allowed"],
                "properties": {
                  "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}},
                  "state": {"$ref": "#/components/schemas/State"},
                  "allowed": {"type": "array", "items": {"type": "string"}}
                }
              },
              "State": {"type": "string", "enum": ["reported", "registered", "rejected", "merged", "dispatched", "acknowledged", "in-progress", "suspended", "handled", "verified", "closed"]},
              "Action": {
                "type": "object",
                "required": ["by"],
                "additionalProperties": false,
                "properties": {
                  "by": {"type": "string", "minLength": 1, "maxLength": 64, "description": "The member or operator acting"},
                  "note": {"type": "string", "maxLength": 4000, "description": "Required by handle"},
                  "reason": {"type": "string", "maxLength": 1000, "description": "Required by return and reopen"},
                  "photoUrls": {"type": "array", "items": {"type": "string", "format": "uri"}},
                  "deadline": {"type": "string", "format": "date-time", "description": "extend: the new deadline"},
                  "grid": {"type": "string", "maxLength": 64, "description": "place: the grid an operator places a triaged report in"}
                }
              },
              "Case": {
                "type": "object",
                "required": ["id", "state", "category", "priority", "reportedAt", "assignees", "escalationLevel", "reminders", "returns", "triage", "emergency", "emitted"],
                "properties": {
                  "id": {"type": "string"},
                  "state": {"$ref": "#/components/schemas/State"},
                  "category": {"type": "string"},
                  "grid": {"type": "string"},
                  "priority": {"type": "string", "enum": ["normal", "urgent", "emergency"]},
                  "location": {"type": "object", "required": ["latitude", "longitude"], "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}}},
                  "reportedAt": {"type": "string", "format": "date-time"},
                  "registeredAt": {"type": "string", "format": "date-time"},
                  "deadline": {"type": "string", "format": "date-time"},
                  "acknowledgeBy": {"type": "string", "format": "date-time"},
                  "assignees": {"type": "array", "items": {"type": "string"}},
                  "role": {"type": "string"},
                  "escalationLevel": {"type": "integer", "minimum": 0},
                  "timer": {"type": "string", "enum": ["acknowledge", "handle"]},
                  "timerAt": {"type": "string", "format": "date-time"},
                  "reminders": {"type": "integer", "minimum": 0},
                  "returns": {"type": "integer", "minimum": 0},
                  "triage": {"type": "boolean"},
                  "emergency": {"type": "boolean"},
                  "closedAt": {"type": "string", "format": "date-time"},
                  "emitted": {"type": "integer", "minimum": 0}
                }
              },
              "ModeRequest": {
                "type": "object",
                "required": ["scope", "target", "mode", "by"],
                "additionalProperties": false,
                "properties": {
                  "scope": {"type": "string", "enum": ["grid", "community", "town", "district"]},
                  "target": {"type": "string", "minLength": 1, "description": "The grid, community, town or district id"},
                  "mode": {"type": "string", "enum": ["emergency", "normal"]},
                  "by": {"type": "string", "minLength": 1, "maxLength": 64},
                  "reason": {"type": "string"}
                }
              },
              "ModeChange": {
                "type": "object",
                "required": ["scope", "target", "mode", "openCases", "note"],
                "properties": {
                  "scope": {"type": "string"},
                  "target": {"type": "string"},
                  "mode": {"type": "string"},
                  "openCases": {"type": "integer", "minimum": 0},
                  "note": {"type": "string"}
                }
              }
            }
          }
        }
        """#
}
