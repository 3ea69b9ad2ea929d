import Foundation
import GridBusTestSupport
import GridConfiguration
import GridDistrict
import Testing

@Suite struct DistrictFilesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let directory = TemporaryFiles.path("district")

    /// deploy/sample is the generator's output for 884 grids and seed 2026, byte for byte.
    @Test func theSampleDistrictIsTheGeneratorsOutput() throws {
        let output = SampleDistrict(gridCount: 884, seed: 2026).generate()
        try SampleDistrict.write(output, to: directory)
        for file in [District.files.grids, District.files.roster, District.files.categories] {
            let committed = try Data(contentsOf: Self.repository.appendingPathComponent("deploy/sample/\(file)"))
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)) == committed,
                "deploy/sample/\(file) drifted: run gridctl district generate --out deploy/sample"
            )
        }
    }

    @Test func theSampleHasEveryRoleTheHierarchyAndTheCatalogue() throws {
        let district = try District.load(directory: Self.repository.appendingPathComponent("deploy/sample").path)
        #expect(district.grids.count == 884)
        #expect(Set(district.members.map(\.role)) == Set(Member.Role.allCases))
        #expect(Set(district.grids.map(\.community)).count > 50 && Set(district.grids.map(\.town)).count > 5)
        #expect(district.grids.contains { $0.polygons.count > 1 } && district.grids.contains { !$0.polygons[0].holes.isEmpty })
        for grid in district.grids {
            let roles = Set(district.members(of: grid.id).map(\.role))
            #expect(roles.isSuperset(of: [.gridChief, .instructor, .gridWorker, .residentMember]), "\(grid.id): \(roles)")
        }
        let groups = Set(district.categories.map(\.group))
        for group in ["邻里纠纷 Neighbour disputes", "安全隐患 Safety hazards", "民生服务 Livelihood services", "微心愿 Citizen micro-wishes", "应急 Emergencies"] {
            #expect(groups.contains(group))
        }
        #expect(Set(district.categories.map(\.kind)) == Set(Category.Kind.allCases))
        #expect(district.categories.contains { $0.volunteer } && district.categories.contains { $0.partTimeAllowed })
        #expect(district.categoriesByCode["E-01-02"]?.nameEn == "Exposed rubbish")
    }

    func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let square = "[[[120,30],[120.01,30],[120.01,30.01],[120,30.01],[120,30]]]"
    static func feature(_ id: String, geometry: String = #"{"type":"Polygon","coordinates":\#(square)}"#) -> String {
        #"{"type":"Feature","properties":{"id":"\#(id)","name":"n","community":"c","town":"t","district":"d"},"geometry":\#(geometry)}"#
    }

    @Test(arguments: [
        (#"{"type":"Feature"}"#, "type", "FeatureCollection"),
        (
            #"{"type":"FeatureCollection","features":[\#(feature("G-1")),\#(feature("G-1"))]}"#, "features[1] (grid G-1).properties.id",
            "also the id of features[0]"
        ),
        (
            #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"G-1"},"geometry":null}]}"#, "features[0].properties.name",
            "is required"
        ),
        (#"{"type":"FeatureCollection","features":[\#(feature("G 1"))]}"#, "features[0] (grid G 1).properties.id", "A–Z"),
        (
            #"{"type":"FeatureCollection","features":[\#(feature("G-1", geometry: #"{"type":"Point","coordinates":[1,2]}"#))]}"#,
            "features[0] (grid G-1).geometry.type", "Polygon or MultiPolygon"
        ),
        (
            #"{"type":"FeatureCollection","features":[\#(feature("G-1", geometry: #"{"type":"Polygon","coordinates":[[[30,120],[30,121],[31,121],[30,120]]]}"#))]}"#,
            "features[0] (grid G-1).geometry.coordinates[0][0]", "longitude first"
        ),
        (
            #"{"type":"FeatureCollection","features":[\#(feature("G-1", geometry: #"{"type":"Polygon","coordinates":[[[120,30],[121,30],[121,31]]]}"#))]}"#,
            "features[0] (grid G-1).geometry.coordinates[0]", "end where it starts"
        ),
    ])
    func geoJSONErrorsNameFeatureAndField(text: String, field: String, reason: String) throws {
        let file = try write("grids.geojson", text)
        do {
            _ = try GeoJSONGrids.load(file)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.file == file && error.field == field, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func csvQuotingAndRowNumbers() throws {
        let table = try CSVTable.parse("a,b\n1,\"x, \"\"y\"\"\nz\"\n\n2,w\n", file: "t.csv", required: ["a", "b"])
        #expect(table.rows.map(\.number) == [2, 5])
        #expect(table.rows[0].fields["b"] == "x, \"y\"\nz")
        #expect(throws: DefinitionError.self) { try CSVTable.parse("a,b\n1\n", file: "t.csv", required: ["a", "b"]) }
        #expect(throws: DefinitionError.self) { try CSVTable.parse("a,c\n1,2\n", file: "t.csv", required: ["a"]) }
        #expect(throws: DefinitionError.self) { try CSVTable.parse("a\n\"open\n", file: "t.csv", required: ["a"]) }
    }

    static let rosterHeader = "member_id,name,role,grids,phone,email,webhook,skills,duty_hours\n"

    @Test(arguments: [
        ("m1,Li,grid-worker,G-9,,,,,always\n", "row 2.grids", "no grid 'G-9'"),
        ("m1,Li,captain,G-1,,,,,always\n", "row 2.role", "grid-chief"),
        ("m1,Li,grid-worker,G-1,,,,,weekdays\n", "row 2.duty_hours", "mon-fri 08:30-17:30"),
        ("m1,Li,grid-worker,G-1,,,ftp://x,,always\n", "row 2.webhook", "http(s)"),
        ("m1,Li,grid-worker,G-1,,,,,always\nm1,Wang,grid-worker,G-1,,,,,always\n", "row 3.member_id", "also on row 2"),
    ])
    func rosterErrorsNameRowAndField(rows: String, field: String, reason: String) throws {
        let file = try write("roster.csv", Self.rosterHeader + rows)
        do {
            _ = try RosterFile.load(file, knownGrids: ["G-1"])
            Issue.record("accepted \(rows)")
        } catch {
            #expect(error.field == field && error.reason.contains(reason), "\(error)")
        }
    }

    @Test func dutyHours() throws {
        let duty = try #require(DutyHours("mon-fri 08:30-17:30; sat 09:00-12:00"))
        #expect(duty.covers(weekday: 1, minute: 8 * 60 + 30) && !duty.covers(weekday: 1, minute: 17 * 60 + 30))
        #expect(duty.covers(weekday: 6, minute: 600) && !duty.covers(weekday: 6, minute: 13 * 60) && !duty.covers(weekday: 7, minute: 600))
        #expect(DutyHours("always")?.covers(weekday: 7, minute: 3) == true)
        #expect(DutyHours("fri-mon 08:00-09:00") == nil && DutyHours("mon 09:00-08:00") == nil)
    }

    static let catalogueHeader =
        "code,kind,group,name_zh,name_en,keywords,filing_criteria,closing_criteria,normal_limit,urgent_limit,clock,responsible_unit,priority\n"

    @Test(arguments: [
        ("E-1-02,event,g,z,e,,,,2d,4h,working,u,normal\n", "row 2.code", "E-01-02"),
        ("E-01-02,event,g,z,e,,,,2h,4h,working,u,normal\n", "row 2.urgent_limit", "no longer than normal_limit"),
        ("E-01-02,event,g,z,e,,,,2d,4h,sundial,u,normal\n", "row 2.clock", "working or natural"),
        ("E-01-02,event,g,z,e,,,,2d,4h,working,u,normal\nE-01-02,event,g,z,e,,,,2d,4h,working,u,normal\n", "row 3.code", "also on row 2"),
        ("E-01-02,event,,z,e,,,,2d,4h,working,u,normal\n", "row 2.group", "required"),
    ])
    func catalogueErrorsNameRowAndField(rows: String, field: String, reason: String) throws {
        let file = try write("categories.csv", Self.catalogueHeader + rows)
        do {
            _ = try CatalogueFile.load(file)
            Issue.record("accepted \(rows)")
        } catch {
            #expect(error.field == field && error.reason.contains(reason), "\(error)")
        }
    }
}
