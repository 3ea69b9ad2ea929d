import Foundation
import GridConfiguration

/// A CSV file (RFC 4180: quoted fields may hold commas, quotes as `""` and line breaks) with a
/// header row. Rows are numbered as a spreadsheet shows them: the header is row 1.
public struct CSVTable: Sendable {
    public let file: String
    public let header: [String]
    public let rows: [(number: Int, fields: [String: String])]

    public static func load(_ file: String, required: [String], optional: [String] = []) throws(DefinitionError) -> CSVTable {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw DefinitionError(file: file, field: "", reason: "cannot read the file: \((error as NSError).localizedDescription)")
        }
        return try parse(text, file: file, required: required, optional: optional)
    }

    public static func parse(_ text: String, file: String, required: [String], optional: [String] = []) throws(DefinitionError) -> CSVTable {
        let records = try split(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text, file: file)
        guard let header = records.first?.fields.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw DefinitionError(file: file, field: "", reason: "the file is empty; the first row must name the columns")
        }
        for column in required where !header.contains(column) {
            throw DefinitionError(
                file: file,
                field: column,
                reason: "the header row has no column '\(column)' (columns: \(required.joined(separator: ", ")))"
            )
        }
        for column in header where !required.contains(column) && !optional.contains(column) {
            throw DefinitionError(file: file, field: column, reason: "unknown column (columns: \((required + optional).joined(separator: ", ")))")
        }
        var rows: [(Int, [String: String])] = []
        for record in records.dropFirst() where !(record.fields.count == 1 && record.fields[0].isEmpty) {
            guard record.fields.count == header.count else {
                throw DefinitionError(
                    file: file,
                    field: "row \(record.line)",
                    reason: "has \(record.fields.count) fields; the header has \(header.count)"
                )
            }
            rows.append((record.line, Dictionary(uniqueKeysWithValues: zip(header, record.fields.map { $0.trimmingCharacters(in: .whitespaces) }))))
        }
        return CSVTable(file: file, header: header, rows: rows)
    }

    public func error(row: Int, _ column: String, _ reason: String) -> DefinitionError {
        DefinitionError(file: file, field: "row \(row).\(column)", reason: reason)
    }

    /// Records with the line each starts on.
    private static func split(_ text: String, file: String) throws(DefinitionError) -> [(line: Int, fields: [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var characters = text.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" {
                        field.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                fields.append(field)
                field = ""
            case "\n", "\r\n", "\r":
                fields.append(field)
                records.append((recordLine, fields))
                fields = []
                field = ""
                line += 1
                recordLine = line
            default: field.append(character)
            }
        }
        if quoted { throw DefinitionError(file: file, field: "row \(recordLine)", reason: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            records.append((recordLine, fields))
        }
        return records
    }
}
