/// The OpenAPI 3 description of grid-stats' HTTP API, served at `/openapi.json`: what a dashboard
/// or an exporter generates its client from. The interop suite checks it against the running
/// server (schemathesis: every answer as documented, no 5xx).
/// Its own paths and schemas only: `WorkerOpenAPI` adds `/healthz`, `/metrics`, `/openapi.json`,
/// the API-key schemes and the error shape, which every worker shares.
enum StatsOpenAPI {
    static let json = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "grid-stats",
            "version": "1.0.0",
            "description": "The evaluation indicators of grid governance, folded from the bus: per district, town, community, grid, category, member and day, with rankings, volunteer points and emergency periods. Days are yyyy-mm-dd in the district's time zone; a period defaults to today. The live stream (GET /api/v1/stream, server-sent events) and the dashboard (GET /) are described in docs/stats.md."
          },
          "servers": [{"url": "/"}],
          "security": [{"bearer": []}, {"apiKeyHeader": []}, {"apiKeyQuery": []}],
          "paths": {
            "/api/v1/indicators": {
              "get": {
                "summary": "Indicators over a period, grouped by one dimension",
                "operationId": "indicators",
                "parameters": [{"$ref": "#/components/parameters/From"}, {"$ref": "#/components/parameters/To"}, {"$ref": "#/components/parameters/By"}, {"$ref": "#/components/parameters/Town"}, {"$ref": "#/components/parameters/Community"}, {"$ref": "#/components/parameters/Grid"}, {"$ref": "#/components/parameters/Category"}],
                "responses": {
                  "200": {"description": "One row per group", "content": {"application/json": {"schema": {"type": "object", "required": ["rows"], "properties": {"rows": {"type": "array", "items": {"$ref": "#/components/schemas/IndicatorRow"}}}}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/api/v1/indicators.csv": {
              "get": {
                "summary": "The same rows as RFC 4180 CSV",
                "operationId": "indicatorsCSV",
                "parameters": [{"$ref": "#/components/parameters/From"}, {"$ref": "#/components/parameters/To"}, {"$ref": "#/components/parameters/By"}, {"$ref": "#/components/parameters/Town"}, {"$ref": "#/components/parameters/Community"}, {"$ref": "#/components/parameters/Grid"}, {"$ref": "#/components/parameters/Category"}],
                "responses": {
                  "200": {"description": "CSV, a header row first", "content": {"text/csv": {"schema": {"type": "string"}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/api/v1/ranking": {
              "get": {
                "summary": "Places (by grid unless by says otherwise) ranked by one indicator; places below the minimum sample are left out",
                "operationId": "ranking",
                "parameters": [
                  {"$ref": "#/components/parameters/From"}, {"$ref": "#/components/parameters/To"}, {"$ref": "#/components/parameters/By"}, {"$ref": "#/components/parameters/Town"}, {"$ref": "#/components/parameters/Community"}, {"$ref": "#/components/parameters/Grid"}, {"$ref": "#/components/parameters/Category"},
                  {"name": "indicator", "in": "query", "schema": {"type": "string", "default": "onTimeClosureRate"}},
                  {"name": "minSample", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                  {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"}}
                ],
                "responses": {
                  "200": {"description": "The ranking", "content": {"application/json": {"schema": {"type": "object", "required": ["ranking"], "properties": {"ranking": {"type": "array", "items": {"$ref": "#/components/schemas/RankedRow"}}}}}}},
                  "400": {"$ref": "#/components/responses/Errors"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/api/v1/points": {
              "get": {
                "summary": "Volunteer points per member, most first; with member, that member's history too",
                "operationId": "points",
                "parameters": [{"name": "member", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                  "200": {"description": "Totals and history", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Points"}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/api/v1/emergencies": {
              "get": {
                "summary": "Emergency-mode periods overlapping the days, and those still on",
                "operationId": "emergencies",
                "parameters": [{"name": "from", "in": "query", "schema": {"type": "string"}}, {"name": "to", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                  "200": {"description": "Periods", "content": {"application/json": {"schema": {"type": "object", "required": ["emergencies"], "properties": {"emergencies": {"type": "array", "items": {"$ref": "#/components/schemas/EmergencyPeriod"}}}}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            },
            "/api/v1/grids": {
              "get": {
                "summary": "The district's grids as GeoJSON, for the dashboard's map",
                "operationId": "grids",
                "responses": {
                  "200": {"description": "A FeatureCollection", "content": {"application/json": {"schema": {"type": "object", "required": ["type", "features"], "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]}, "features": {"type": "array", "items": {"type": "object"}}}}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "429": {"$ref": "#/components/responses/Errors"}
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key", "description": "For browsers' event streams, which cannot send headers"}
            },
            "parameters": {
              "From": {"name": "from", "in": "query", "schema": {"type": "string"}, "description": "First day, yyyy-mm-dd (default today)"},
              "To": {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "Last day, yyyy-mm-dd (default today)"},
              "By": {"name": "by", "in": "query", "schema": {"type": "string", "enum": ["district", "town", "community", "grid", "category", "member", "day"]}},
              "Town": {"name": "town", "in": "query", "schema": {"type": "string"}},
              "Community": {"name": "community", "in": "query", "schema": {"type": "string"}},
              "Grid": {"name": "grid", "in": "query", "schema": {"type": "string"}},
              "Category": {"name": "category", "in": "query", "schema": {"type": "string"}}
            },
            "schemas": {
              "IndicatorRow": {
                "type": "object",
                "required": ["key", "reports", "registered", "rejected", "merged", "dispatched", "acknowledged", "handled", "closed", "escalations", "becameOverdue", "reopened", "overdueOpen"],
                "properties": {
                  "key": {"type": "string"},
                  "reports": {"type": "integer"}, "registered": {"type": "integer"}, "rejected": {"type": "integer"}, "merged": {"type": "integer"},
                  "dispatched": {"type": "integer"}, "timelyDispatchRate": {"type": "number"}, "accurateDispatchRate": {"type": "number"},
                  "acknowledged": {"type": "integer"}, "acknowledgeMeanSeconds": {"type": "number"}, "acknowledgeP90Seconds": {"type": "number"},
                  "handled": {"type": "integer"}, "handleMeanSeconds": {"type": "number"}, "handleP90Seconds": {"type": "number"},
                  "onTimeHandlingRate": {"type": "number"}, "closed": {"type": "integer"}, "closureRate": {"type": "number"},
                  "onTimeClosureRate": {"type": "number"}, "reworkRate": {"type": "number"}, "escalations": {"type": "integer"},
                  "becameOverdue": {"type": "integer"}, "reopened": {"type": "integer"}, "overdueOpen": {"type": "integer"},
                  "notificationsSent": {"type": "integer"}, "notificationsFailed": {"type": "integer"}, "notificationSuccessRate": {"type": "number"}
                }
              },
              "RankedRow": {
                "type": "object",
                "required": ["rank", "key", "value", "sample"],
                "properties": {"rank": {"type": "integer", "minimum": 1}, "key": {"type": "string"}, "value": {"type": "number"}, "sample": {"type": "integer"}}
              },
              "Points": {
                "type": "object",
                "required": ["totals", "history"],
                "properties": {
                  "totals": {"type": "array", "items": {"type": "object", "required": ["member", "points", "tasks"], "properties": {"member": {"type": "string"}, "name": {"type": "string"}, "points": {"type": "integer"}, "tasks": {"type": "integer"}}}},
                  "history": {"type": "array", "items": {"type": "object", "required": ["member", "incident", "points", "at"], "properties": {"member": {"type": "string"}, "incident": {"type": "string"}, "points": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}}}
                }
              },
              "EmergencyPeriod": {
                "type": "object",
                "required": ["place", "startedAt", "startedBy", "seconds"],
                "properties": {
                  "place": {"type": "string"},
                  "startedAt": {"type": "string", "format": "date-time"},
                  "endedAt": {"type": "string", "format": "date-time"},
                  "startedBy": {"type": "string"},
                  "reason": {"type": "string"},
                  "seconds": {"type": "number", "minimum": 0}
                }
              }
            }
          }
        }
        """#
}
