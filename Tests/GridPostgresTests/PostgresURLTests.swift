import Foundation
import GridPostgres
import Testing

/// The URL forms an operator writes, as libpq reads them, and the password kept out of them.
@Suite struct PostgresURLTests {
    @Test func aHostListWithPortsIPv6AndParameters() throws {
        let url = try PostgresURL(
            parsing:
                "postgresql://grid%20bus@db1,[fd00::2]:5433,10.0.0.3:6432/gridbus?target_session_attrs=any&sslmode=require&connect_timeout=3&application_name=node-1"
        )
        #expect(url.user == "grid bus" && url.database == "gridbus")
        #expect(url.hosts == [.init(name: "db1", port: 5432), .init(name: "fd00::2", port: 5433), .init(name: "10.0.0.3", port: 6432)])
        #expect(url.target == .any && url.tls == .require && url.connectTimeout == 3 && url.applicationName == "node-1")
        #expect(
            url.description
                == "postgresql://grid bus@db1:5432,[fd00::2]:5433,10.0.0.3:6432/gridbus?target_session_attrs=any&sslmode=require&application_name=node-1"
        )
    }

    @Test func theDefaultsAreAWriterThatPrefersTLS() throws {
        let url = try PostgresURL(parsing: "postgres://gridbus@db1/gridbus")
        #expect(url.target == .readWrite && url.tls == .prefer && url.connectTimeout == 5 && url.hosts.map(\.port) == [5432])
    }

    @Test(arguments: ["postgresql://gridbus:hunter2@db1/gridbus", "postgresql://gridbus@db1/gridbus?password=hunter2"])
    func aPasswordIsRefusedAndNotRepeated(_ text: String) {
        #expect {
            _ = try PostgresURL(parsing: text)
        } throws: { error in
            "\(error)".contains("carries a password") && !"\(error)".contains("hunter2")
        }
    }

    @Test func aPasswordFileMustBePrivateAndLosesItsNewline() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o640)
        #expect(throws: PostgresPasswordError.self) { try PostgresPassword.resolve(file: path, variable: "X", environment: [:]) }
        chmod(path, 0o600)
        #expect(try PostgresPassword.resolve(file: path, variable: "X", environment: ["X": "other"]) == "secret")
        #expect(try PostgresPassword.resolve(file: nil, variable: "X", environment: ["X": "other"]) == "other")
        #expect(try PostgresPassword.resolve(file: nil, variable: "X", environment: [:]) == nil)
    }
}
