import Foundation
import GridDistrict
import GridHTTP
import GridJSON
import GridSchema

/// A report as the intake accepts it, whichever face it came through (native JSON or Open311).
public struct ReportInput: Sendable, Equatable {
    public var category: Category
    public var description: String
    public var priority: Priority
    public var channel: ReportChannel
    public var grid: String?
    public var location: GeoPoint?
    public var address: String?
    public var reporter: Reporter?
    public var mediaURLs: [String]
    public var externalID: String?
    public var reportedAt: Date?
    /// Open311 `attribute[code]` values, kept with the incident.
    public var attributes: [String: String]

    public static let maxDescription = 4000
    public static let maxMedia = 10

    /// Parses the native `POST /v1/incidents` body, collecting every field error.
    public static func parse(json data: Data, district: District, defaultChannel: ReportChannel) -> Result<ReportInput, FieldErrors> {
        let value: JSONValue
        do { value = try JSONValue(parsing: Array(data)) } catch {
            return .failure(FieldErrors([FieldError("", "the body is not valid JSON (\(error))")]))
        }
        guard case .object(let body) = value else { return .failure(FieldErrors([FieldError("", "the body must be a JSON object")])) }
        var errors: [FieldError] = []
        let known = [
            "category", "description", "priority", "channel", "grid", "location", "address", "reporter", "mediaUrls", "externalId", "reportedAt",
        ]
        for key in body.keys.sorted() where !known.contains(key) {
            errors.append(FieldError(key, "unknown field (fields: \(known.joined(separator: ", ")))"))
        }

        func string(_ key: String, in object: [String: JSONValue], path: String? = nil, max: Int) -> String? {
            let field = path ?? key
            guard let value = object[key], value != .null else { return nil }
            guard case .string(let text) = value else {
                errors.append(FieldError(field, "must be a string"))
                return nil
            }
            if text.count > max { errors.append(FieldError(field, "is \(text.count) characters; at most \(max)")) }
            return text
        }

        var category: Category?
        if let code = string("category", in: body, max: 32) {
            category = district.categoriesByCode[code]
            if category == nil {
                errors.append(FieldError("category", "'\(code)' is not in the catalogue (GET /open311/v2/services.json lists them)"))
            }
        } else if body["category"] == nil {
            errors.append(FieldError("category", "is required"))
        }
        let description = string("description", in: body, max: maxDescription)
        if body["description"] == nil { errors.append(FieldError("description", "is required")) }
        if let description { errors += checkDescription(description, field: "description") }

        var priority: Priority?
        if let text = string("priority", in: body, max: 16) {
            priority = Priority(rawValue: text)
            if priority == nil {
                errors.append(FieldError("priority", "must be one of \(Priority.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        var channel = defaultChannel
        if let text = string("channel", in: body, max: 16) {
            if let value = ReportChannel(rawValue: text), value != .open311 {
                channel = value
            } else {
                errors.append(FieldError("channel", "must be one of app, hotline, iot, patrol, other"))
            }
        }
        var grid: String?
        if let text = string("grid", in: body, max: 64) {
            if district.gridsByID[text] == nil { errors.append(FieldError("grid", "'\(text)' is not a grid of this district")) } else { grid = text }
        }
        var location: GeoPoint?
        if let value = body["location"], value != .null {
            if case .object(let object) = value {
                let latitude = number(object["latitude"], field: "location.latitude", range: -90...90, errors: &errors)
                let longitude = number(object["longitude"], field: "location.longitude", range: -180...180, errors: &errors)
                for key in object.keys.sorted() where key != "latitude" && key != "longitude" {
                    errors.append(FieldError("location.\(key)", "unknown field"))
                }
                if let latitude, let longitude { location = GeoPoint(latitude: latitude, longitude: longitude) }
            } else {
                errors.append(FieldError("location", "must be an object with latitude and longitude"))
            }
        }
        let address = string("address", in: body, max: 500)
        if let address { errors += checkText(address, field: "address") }
        var reporter: Reporter?
        if let value = body["reporter"], value != .null {
            if case .object(let object) = value {
                for key in object.keys.sorted() where !["name", "phone", "wantsUpdates"].contains(key) {
                    errors.append(FieldError("reporter.\(key)", "unknown field"))
                }
                let name = string("name", in: object, path: "reporter.name", max: 200)
                let phone = string("phone", in: object, path: "reporter.phone", max: 40)
                if let phone { errors += checkPhone(phone, field: "reporter.phone") }
                var wantsUpdates = false
                switch object["wantsUpdates"] {
                case nil, .null?: break
                case .bool(let flag)?: wantsUpdates = flag
                default: errors.append(FieldError("reporter.wantsUpdates", "must be true or false"))
                }
                if let name { errors += checkText(name, field: "reporter.name") }
                reporter = Reporter(name: name, phone: phone, wantsUpdates: wantsUpdates)
            } else {
                errors.append(FieldError("reporter", "must be an object"))
            }
        }
        var media: [String] = []
        if let value = body["mediaUrls"], value != .null {
            if case .array(let list) = value {
                if list.count > maxMedia { errors.append(FieldError("mediaUrls", "at most \(maxMedia) URLs")) }
                for (index, item) in list.enumerated() {
                    guard case .string(let url) = item else {
                        errors.append(FieldError("mediaUrls[\(index)]", "must be a string"))
                        continue
                    }
                    if let error = checkMediaURL(url, field: "mediaUrls[\(index)]") { errors.append(error) } else { media.append(url) }
                }
            } else {
                errors.append(FieldError("mediaUrls", "must be a list of http(s) URLs"))
            }
        }
        let externalID = string("externalId", in: body, max: 128)
        if let externalID, externalID.isEmpty { errors.append(FieldError("externalId", "must not be empty")) }
        var reportedAt: Date?
        if let text = string("reportedAt", in: body, max: 64) {
            reportedAt = RFC3339.parse(text)
            if reportedAt == nil { errors.append(FieldError("reportedAt", "is not an RFC 3339 date-time, e.g. 2026-11-27T10:00:00Z")) }
        }
        guard errors.isEmpty, let category, let description else { return .failure(FieldErrors(errors)) }
        return .success(
            ReportInput(
                category: category,
                description: description,
                priority: priority ?? category.priority,
                channel: channel,
                grid: grid,
                location: location,
                address: address,
                reporter: reporter,
                mediaURLs: media,
                externalID: externalID,
                reportedAt: reportedAt,
                attributes: [:]
            )
        )
    }

    static func number(_ value: JSONValue?, field: String, range: ClosedRange<Double>, errors: inout [FieldError]) -> Double? {
        let number: Double
        switch value {
        case nil, .null?:
            errors.append(FieldError(field, "is required"))
            return nil
        case .integer(let integer)?: number = Double(integer)
        case .number(let double)?: number = double
        default:
            errors.append(FieldError(field, "must be a number"))
            return nil
        }
        guard range.contains(number) else {
            errors.append(FieldError(field, "\(number) is out of range (\(range.lowerBound) to \(range.upperBound))"))
            return nil
        }
        return number
    }

    static func checkPhone(_ phone: String, field: String) -> [FieldError] {
        phone.allSatisfy({ $0.isASCII && ($0.isNumber || "+- ()".contains($0)) })
            ? [] : [FieldError(field, "may hold digits, spaces and + - ( ) only")]
    }

    /// Free text: no markup, no control characters other than line breaks and tabs.
    static func checkText(_ text: String, field: String) -> [FieldError] {
        var errors: [FieldError] = []
        if containsTag(text) || text.contains("&lt;") || text.contains("&#") {
            errors.append(FieldError(field, "must be plain text: HTML is not accepted"))
        }
        // General category Cc is U+0000–001F and U+007F–009F.
        if text.unicodeScalars.contains(where: { ($0.value < 0x20 && !["\n", "\r", "\t"].contains($0)) || (0x7F...0x9F).contains($0.value) }) {
            errors.append(FieldError(field, "contains control characters"))
        }
        return errors
    }

    /// Whether `text` holds what the regular expression `<\s*/?\s*[A-Za-z!][^>]*>` matches (a tag,
    /// a closing tag, a comment or a doctype), in one pass: compiling that expression for every
    /// report was 3–4 % of the intake's CPU. ICU's `\s` is Unicode's White_Space property.
    static func containsTag(_ text: String) -> Bool {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace }
        let scalars = Array(text.unicodeScalars)
        // A tag needs a `>` somewhere after its first letter.
        guard let lastClose = scalars.lastIndex(of: ">") else { return false }
        var index = 0
        while index < lastClose {
            defer { index += 1 }
            guard scalars[index] == "<" else { continue }
            var next = index + 1
            while next < lastClose, isSpace(scalars[next]) { next += 1 }
            if next < lastClose, scalars[next] == "/" { next += 1 }
            while next < lastClose, isSpace(scalars[next]) { next += 1 }
            if next < lastClose, scalars[next] == "!" || (scalars[next].isASCII && scalars[next].properties.isAlphabetic) { return true }
        }
        return false
    }

    static func checkDescription(_ text: String, field: String) -> [FieldError] {
        var errors = checkText(text, field: field)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { errors.append(FieldError(field, "must not be empty")) }
        return errors
    }

    static func checkMediaURL(_ text: String, field: String) -> FieldError? {
        guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else { return FieldError(field, "must be an http or https URL") }
        return nil
    }
}
