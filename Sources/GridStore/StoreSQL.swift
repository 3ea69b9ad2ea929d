import Foundation

/// What the stores need of SQL text: where statements end, where parameters stand, and a
/// worker's SQLite schema in PostgreSQL's types.
public enum StoreSQL {
    /// `sql` split at each `;` outside quotes and comments, empty statements left out.
    public static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        scan(sql) { character, code in
            if code, character == ";" {
                statements.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// `sql` with each `?` outside quotes and comments numbered as PostgreSQL's `$1, $2, …`; a
    /// numbered one (`?1`, SQLite's too) keeps its number.
    public static func numberedParameters(_ sql: String) -> String {
        var result = ""
        var number = 0
        var characters = Array(sql)
        characters.append(" ")
        var index = 0
        scan(sql) { character, code in
            defer { index += 1 }
            guard code, character == "?" else {
                result.append(character)
                return
            }
            if characters[index + 1].isASCII, characters[index + 1].isNumber {
                result.append("$")
            } else {
                number += 1
                result += "$\(number)"
            }
        }
        return result
    }

    /// Calls `visit` with each character and whether it is code (not inside a string, a quoted
    /// identifier or a comment).
    private static func scan(_ sql: String, _ visit: (Character, Bool) -> Void) {
        enum Inside { case code, string, identifier, lineComment }
        var inside = Inside.code
        var previous: Character = " "
        for character in sql {
            switch inside {
            case .code:
                if character == "'" {
                    inside = .string
                } else if character == "\"" {
                    inside = .identifier
                } else if character == "-", previous == "-" {
                    inside = .lineComment
                }
                visit(character, inside == .code)
            case .string:
                if character == "'" { inside = .code }
                visit(character, false)
            case .identifier:
                if character == "\"" { inside = .code }
                visit(character, false)
            case .lineComment:
                if character == "\n" { inside = .code }
                visit(character, false)
            }
            previous = character
        }
    }

    /// The statements of a SQLite schema (`CREATE TABLE`, `CREATE INDEX`) in PostgreSQL's types:
    /// 64-bit integers (SQLite's are; PostgreSQL's `integer` is 32-bit), `bytea` for blobs, `double
    /// precision` for reals, a `bigserial` for SQLite's row id key, and no `WITHOUT ROWID` (a
    /// PostgreSQL table is always a heap beside its primary key's index).
    ///
    /// The workers' released SQLite migrations stay as they were written; their PostgreSQL form is
    /// this translation of them (and statements of its own where SQLite had an implicit `rowid`).
    public static func postgresqlSchema(fromSQLite sql: String) -> [String] {
        let rules: [(String, String)] = [
            (#"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"#, "bigserial PRIMARY KEY"),
            (#"\bINTEGER PRIMARY KEY\b"#, "bigserial PRIMARY KEY"),
            (#"\bINTEGER\b"#, "bigint"),
            (#"\bBLOB\b"#, "bytea"),
            (#"\bREAL\b"#, "double precision"),
            (#"\)\s*WITHOUT ROWID"#, ")"),
        ]
        return statements(in: sql).map { statement in
            rules.reduce(statement) { text, rule in text.replacingOccurrences(of: rule.0, with: rule.1, options: .regularExpression) }
        }
    }

    /// `name` quoted as an SQL identifier.
    public static func identifier(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
