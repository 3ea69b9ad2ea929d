import Foundation

/// An Open311 response body that can be written as JSON or as XML (GeoReport v2 offers both): a
/// list of records under a root element, each record a list of fields in the spec's order.
struct Open311Document {
    enum Value {
        case text(String?)
        case number(Double?)
        case flag(Bool)
        case records(String, [[(String, Value)]])  // nested list: element name of each record, records
    }

    let root: String
    let element: String
    let records: [[(String, Value)]]
    /// One object instead of a list (a service definition): `{…}` in JSON, `<root>fields</root>` in XML.
    var single = false

    enum Format: String {
        case json, xml
        var contentType: String { self == .json ? "application/json; charset=utf-8" : "text/xml; charset=utf-8" }
    }

    func render(_ format: Format) -> String {
        switch format {
        case .json where single: return Self.jsonObject(records.first ?? [])
        case .xml where single: return #"<?xml version="1.0" encoding="utf-8"?>"# + "<\(root)>" + Self.xmlFields(records.first ?? []) + "</\(root)>"
        case .json: return "[" + records.map(Self.jsonObject).joined(separator: ",") + "]"
        case .xml:
            return #"<?xml version="1.0" encoding="utf-8"?>"# + "<\(root)>"
                + records.map { "<\(element)>" + Self.xmlFields($0) + "</\(element)>" }.joined()
                + "</\(root)>"
        }
    }

    private static func jsonObject(_ fields: [(String, Value)]) -> String {
        "{" + fields.map { "\(jsonString($0.0)):\(jsonValue($0.1))" }.joined(separator: ",") + "}"
    }

    private static func jsonValue(_ value: Value) -> String {
        switch value {
        case .text(let text): return text.map(jsonString) ?? "null"
        case .number(let number): return number.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) } ?? "null"
        case .flag(let flag): return flag ? "true" : "false"
        case .records(_, let records): return "[" + records.map(jsonObject).joined(separator: ",") + "]"
        }
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func xmlFields(_ fields: [(String, Value)]) -> String {
        fields.map { name, value in
            switch value {
            case .text(let text): return text.map { "<\(name)>\(xmlEscape($0))</\(name)>" } ?? "<\(name)/>"
            case .number(let number): return number.map { "<\(name)>\(jsonValue(.number($0)))</\(name)>" } ?? "<\(name)/>"
            case .flag(let flag): return "<\(name)>\(flag)</\(name)>"
            case .records(let element, let records):
                return "<\(name)>" + records.map { "<\(element)>" + xmlFields($0) + "</\(element)>" }.joined() + "</\(name)>"
            }
        }.joined()
    }

    static func xmlEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // Characters XML 1.0 cannot carry at all are dropped rather than breaking the document.
            case _ where scalar.value < 0x20 && !["\n", "\r", "\t"].contains(scalar): continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The spec's error list: `[{"code": 400, "description": "…"}]`, `<errors><error>…`.
    static func errors(_ code: Int, _ descriptions: [String]) -> Open311Document {
        Open311Document(
            root: "errors",
            element: "error",
            records: descriptions.map { [("code", .number(Double(code))), ("description", .text($0))] }
        )
    }
}
