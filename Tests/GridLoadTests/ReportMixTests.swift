import Foundation
import GridDistrict
import GridLoad
import Testing

/// The seeded mix is a benchmark's and the fault suite's workload: the same seed must give the
/// same reports from one version to the next, or two versions' runs do not measure the same work.
@Suite struct ReportMixTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/sample").path

    @Test func theSameSeedGivesTheSameReports() throws {
        var mix = ReportMix(district: try District.load(directory: Self.sample), seed: 2026)
        var fingerprint: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over each report's text
        var kinds: [String: Int] = [:]
        for _ in 0..<500 {
            let report = mix.next()
            let kind: String
            switch report.expectation {
            case .driven: kind = "driven"
            case .duplicate: kind = "duplicate"
            case .outside: kind = "outside"
            }
            kinds[kind, default: 0] += 1
            for byte in "\(report.category) \(report.priority) \(report.latitude) \(report.longitude) \(kind)\n".utf8 {
                fingerprint = (fingerprint ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        #expect(kinds["duplicate", default: 0] > 10 && kinds["outside", default: 0] > 3, "\(kinds)")
        #expect(fingerprint == Self.recorded, "the mix changed: \(String(fingerprint, radix: 16))")
    }

    /// Recorded from the mix as the benchmarks of docs/benchmarks.md ran it (2026-12-07). Before,
    /// the district was read with Foundation's `JSONSerialization`, which on Linux rounds half the
    /// sample's coordinates one unit in the last place off (4,920 of 9,110; `Double(String)`, which
    /// GridJSON uses, is exact): the points drawn then differed in their last digit.
    static let recorded: UInt64 = 0x1ddc_68fc_6db0_6617
}
