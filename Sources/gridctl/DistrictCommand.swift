import ArgumentParser
import Foundation
import GridConfiguration
import GridDistrict
import GridSchema

/// `gridctl district`: generate, check and query district files (grids, roster, catalogue).
struct DistrictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "district",
        abstract: "Generate, check and query a district: grids.geojson, roster.csv, categories.csv.",
        subcommands: [Generate.self, Check.self, Locate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic district (deploy/sample is --grids 884; benchmarks use 100000)."
        )
        @Option(help: "Number of grids.") var grids = 884
        @Option(help: "Seed: the same seed writes the same files.") var seed: UInt64 = 2026
        @Option(help: "Directory to write into.") var out: String

        func validate() throws {
            guard (1...1_000_000).contains(grids) else { throw ValidationError("--grids must be between 1 and 1000000") }
        }

        func run() throws {
            let output = SampleDistrict(gridCount: grids, seed: seed).generate()
            do { try SampleDistrict.write(output, to: out) } catch { throw RuntimeFailure("cannot write \(out): \(error.localizedDescription)") }
            FileHandleOutput.standardOutput(
                "\(output.grids.count) grids, \(output.members.count) members, \(output.categories.count) categories in \(out)\n"
            )
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a district and report what it holds, or the first mistake (file, row or feature, field)."
        )
        @Argument(help: "The district directory.") var directory: String

        func run() throws {
            let district: District
            do { district = try District.load(directory: directory) } catch { throw ValidationError("\(error)") }
            let towns = Set(district.grids.map(\.town)).count
            let communities = Set(district.grids.map(\.community)).count
            let roles = Dictionary(grouping: district.members, by: \.role).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
            FileHandleOutput.standardOutput(
                "\(district.grids.count) grids in \(communities) communities and villages, \(towns) towns\n"
                    + "\(district.members.count) members: \(roles.joined(separator: ", "))\n\(district.categories.count) categories\n"
            )
        }
    }

    struct Locate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the grid at a position (exit 1 when it lies outside every grid).")
        @Argument(help: "The district directory.") var directory: String
        @Argument(help: "Latitude (WGS 84).") var latitude: Double
        @Argument(help: "Longitude (WGS 84).") var longitude: Double

        func run() throws {
            let district: District
            do { district = try District.load(directory: directory) } catch { throw ValidationError("\(error)") }
            guard let grid = district.grid(at: GeoPoint(latitude: latitude, longitude: longitude)) else {
                throw RuntimeFailure("(\(latitude), \(longitude)) is outside every grid")
            }
            FileHandleOutput.standardOutput("\(grid.id)\t\(grid.name)\t\(grid.community)\t\(grid.town)\n")
        }
    }
}
