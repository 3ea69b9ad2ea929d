import Foundation
import GridBusTestSupport
import GridConfiguration
import GridDispatch
import GridDistrict
import GridJSON
import GridSchema
import Testing

@Suite struct EscalationRulesTests {
    static let catalogue = DispatcherTests.district.categories.map(\.code)

    static func read(_ yaml: String) throws(DefinitionError) -> EscalationRules {
        try EscalationFile.read(try YAMLDefinition.parse(yaml, file: "escalation.yaml"), catalogue: catalogue)
    }

    @Test func categoriesOverrideTheDefaultByLongestPrefix() throws {
        let rules = try Self.read(
            """
            default:
              normal: {acknowledge: 20m}
            emergency-mode: {remind: 30s}
            categories:
              E-01:
                ladder: [grid-worker, community, town]
                normal: {acknowledge: 10m, remind: 3m}
              E-01-02:
                urgent: {acknowledge: 2m}
            """
        )
        #expect(rules.pace(category: "C-01-05", priority: .normal, emergency: false) == EscalationPace(acknowledge: 20 * 60, remind: 15 * 60))
        #expect(rules.pace(category: "E-01-01", priority: .normal, emergency: false) == EscalationPace(acknowledge: 10 * 60, remind: 3 * 60))
        #expect(rules.policy(category: "E-01-01").ladder == ["grid-worker", "community", "town"])
        // E-01-02 is its own entry: built on the default, not on E-01.
        #expect(rules.pace(category: "E-01-02", priority: .urgent, emergency: false) == EscalationPace(acknowledge: 2 * 60, remind: 5 * 60))
        #expect(rules.policy(category: "E-01-02").ladder == EscalationPolicy.standardLadder)
        #expect(rules.pace(category: "E-01-01", priority: .normal, emergency: true) == EscalationPace(acknowledge: 5 * 60, remind: 30))
    }

    /// The example a deployment starts from is valid for the sample catalogue.
    @Test func theDeployedExampleLoads() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/escalation.yaml").path
        let rules = try EscalationFile.load(file, catalogue: Self.catalogue)
        #expect(rules.policy(category: "G-05-01").ladder == ["grid-chief", "community", "town"])
        #expect(rules.pace(category: "G-05-01", priority: .urgent, emergency: false) == EscalationPace(acknowledge: 180, remind: 60))
    }

    @Test(arguments: [
        ("categories:\n  X-99: {normal: {acknowledge: 1m}}", "categories.X-99", "matches no category"),
        ("categories:\n  E-01: {ladder: [grid-worker, mayor]}", "categories.E-01.ladder[1]", "'mayor' is not a rung"),
        ("categories:\n  E-01: {ladder: [town]}", "categories.E-01.ladder", "at least one above"),
        ("default: {normal: {acknowledge: soon}}", "default.normal.acknowledge", "is not a duration"),
        ("default: {normal: {acknowlege: 5m}}", "default.normal.acknowlege", "did you mean 'acknowledge'"),
        ("defaults: {}", "defaults", "unknown field"),
    ])
    func mistakesNameTheField(yaml: String, field: String, reason: String) {
        #expect {
            try Self.read(yaml)
        } throws: { error in
            guard let error = error as? DefinitionError else { return false }
            return error.file == "escalation.yaml" && error.field == field && error.reason.contains(reason)
        }
    }

    /// A category's own ladder and pace drive the timers: E-01 skips the grid chief and the
    /// instructor, and reminds every 3 minutes.
    @Test func theDispatcherEscalatesByTheCategorysPolicy() async throws {
        var settings = DispatchSettings()
        settings.escalation = try Self.read(
            "categories:\n  E-01:\n    ladder: [grid-worker, community, town]\n    normal: {acknowledge: 10m, remind: 3m}"
        )
        let fixture = try await DispatcherTests.Fixture(settings: settings)
        try await fixture.report("inc-1")
        #expect(try await fixture.dispatcher.get("inc-1")?.acknowledgeBy == DispatcherTests.morning.addingTimeInterval(10 * 60))
        fixture.clock.advance(10 * 60)
        #expect(try await fixture.dispatcher.sweep() == 1)
        fixture.clock.advance(2 * 60)
        #expect(try await fixture.dispatcher.sweep() == 0)
        fixture.clock.advance(60)
        #expect(try await fixture.dispatcher.sweep() == 1)
        let escalations = try await fixture.published().filter { $0.type == "incident.escalated" }
        #expect(escalations.map { $0.data["level"] } == [.string("community"), .string("town")])
        #expect(escalations.first?.data["to"] == .array([.string("community:C-01-01")]))
    }
}
