/// The OpenAPI 3 description of grid-notifier's HTTP API, served at `/openapi.json`. The interop
/// suite checks it against the running server (schemathesis: every answer as documented, no 5xx).
/// Its own paths and schemas only: `WorkerOpenAPI` adds `/healthz`, `/metrics`, `/openapi.json`,
/// the API-key schemes and the error shape, which every worker shares.
enum NotifierOpenAPI {
    static let json = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "grid-notifier",
            "version": "1.0.0",
            "description": "Notifications of GridBus: the notification log of an incident, the reminders still to come, and silences (who is not told what, until when)."
          },
          "servers": [{"url": "/"}],
          "security": [{"bearer": []}, {"apiKeyHeader": []}],
          "paths": {
            "/v1/silences": {
              "get": {
                "summary": "The silences in force (expired=true: all)",
                "operationId": "listSilences",
                "parameters": [{"name": "expired", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}}],
                "responses": {
                  "200": {"description": "Silences", "content": {"application/json": {"schema": {"type": "object", "required": ["silences"], "properties": {"silences": {"type": "array", "items": {"$ref": "#/components/schemas/Silence"}}}}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              },
              "post": {
                "summary": "Silence the notices that match, for a duration or until a time",
                "operationId": "createSilence",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewSilence"}}}},
                "responses": {
                  "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Silence"}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "413": {"$ref": "#/components/responses/Errors"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/v1/silences/{id}": {
              "delete": {
                "summary": "End a silence now",
                "operationId": "expireSilence",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                  "200": {"description": "The silence, ended", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Silence"}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/Errors"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/v1/notifications": {
              "get": {
                "summary": "The notification log of an incident: who was told what, how, and how it went",
                "operationId": "notificationLog",
                "parameters": [{"name": "incident", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1}}],
                "responses": {
                  "200": {"description": "The log", "content": {"application/json": {"schema": {"type": "object", "required": ["notifications"], "properties": {"notifications": {"type": "array", "items": {"$ref": "#/components/schemas/LogEntry"}}}}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/v1/reminders": {
              "get": {
                "summary": "Reminders still to come, soonest first, of an incident, a member, or all",
                "operationId": "waitingReminders",
                "parameters": [
                  {"name": "incident", "in": "query", "schema": {"type": "string"}},
                  {"name": "recipient", "in": "query", "schema": {"type": "string"}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
                ],
                "responses": {
                  "200": {"description": "Reminders", "content": {"application/json": {"schema": {"type": "object", "required": ["reminders"], "properties": {"reminders": {"type": "array", "items": {"$ref": "#/components/schemas/Reminder"}}}}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            }
          },
          "components": {
            "schemas": {
              "Matchers": {
                "type": "object",
                "additionalProperties": false,
                "minProperties": 1,
                "properties": {
                  "type": {"type": "string", "minLength": 1, "maxLength": 128, "description": "An event type, e.g. incident.dispatched"},
                  "grid": {"type": "string", "minLength": 1, "maxLength": 128, "description": "A grid id or its prefix"},
                  "category": {"type": "string", "minLength": 1, "maxLength": 128, "description": "A category code or its prefix"},
                  "recipient": {"type": "string", "minLength": 1, "maxLength": 128, "description": "A member or operator id"},
                  "incident": {"type": "string", "minLength": 1, "maxLength": 128}
                }
              },
              "NewSilence": {
                "type": "object",
                "required": ["matchers", "createdBy"],
                "additionalProperties": false,
                "description": "Give duration or endsAt",
                "properties": {
                  "matchers": {"$ref": "#/components/schemas/Matchers"},
                  "duration": {"type": "string", "description": "30m, 2h, 1d"},
                  "endsAt": {"type": "string", "format": "date-time"},
                  "createdBy": {"type": "string", "minLength": 1, "maxLength": 64},
                  "comment": {"type": "string"}
                }
              },
              "Silence": {
                "type": "object",
                "required": ["id", "matchers", "startsAt", "endsAt", "createdBy"],
                "properties": {
                  "id": {"type": "string"},
                  "matchers": {"$ref": "#/components/schemas/Matchers"},
                  "startsAt": {"type": "string", "format": "date-time"},
                  "endsAt": {"type": "string", "format": "date-time"},
                  "createdBy": {"type": "string"},
                  "comment": {"type": "string"}
                }
              },
              "LogEntry": {
                "type": "object",
                "required": ["notificationId", "recipient", "type", "channel", "status", "attempts"],
                "properties": {
                  "notificationId": {"type": "string"},
                  "recipient": {"type": "string"},
                  "type": {"type": "string"},
                  "channel": {"type": "string"},
                  "status": {"type": "string", "enum": ["pending", "retry", "sending", "sent", "failed", "silenced", "muted", "cancelled"]},
                  "attempts": {"type": "integer", "minimum": 0},
                  "messageId": {"type": "string"},
                  "detail": {"type": "string"}
                }
              },
              "Reminder": {
                "type": "object",
                "required": ["incident", "recipient", "dispatch", "sent", "left", "nextAt"],
                "properties": {
                  "incident": {"type": "string"},
                  "recipient": {"type": "string"},
                  "dispatch": {"type": "string"},
                  "sent": {"type": "integer", "minimum": 0},
                  "left": {"type": "integer", "minimum": 0},
                  "nextAt": {"type": "string", "format": "date-time"}
                }
              }
            }
          }
        }
        """#
}
