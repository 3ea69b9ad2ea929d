import Foundation
import GridBusClient
import GridDispatch
import GridDistrict
import GridSchema
import GridSecurity
import ZeroMQ

/// (i) point-in-grid lookups in a large synthetic district.
struct GridLookup: Measurement {
    static let letters = "i"

    static func run(_ bench: Bench) throws {
        var p99s: [Double] = []
        var rowsI: [String] = []
        for run in 0..<bench.runs {
            let result = measureGridIndex(grids: bench.grids, lookups: 1_000_000)
            p99s.append(result.p99)
            rowsI.append(String(format: "p50 %.2f µs, p99 %.2f µs, max %.1f µs", result.p50, result.p99, result.max))
            bench.log(
                String(
                    format: "(i) run %d: index of %d grids built in %.2f s; %@; %d of 1,000,000 points inside a grid",
                    run + 1,
                    bench.grids,
                    result.build,
                    rowsI.last!,
                    result.inside
                )
            )
        }
        bench.rows.append(
            (
                "(i) point-in-grid lookup, \(bench.grids) grids, 1,000,000 random points", String(format: "p99 %.2f µs", median(p99s)),
                rowsI.joined(separator: "; ")
            )
        )
    }
}

/// (k) the dispatcher's assignment decision in a large synthetic district.
struct AssignmentDecision: Measurement {
    static let letters = "k"

    static func run(_ bench: Bench) throws {
        var p99s: [Double] = []
        var notes: [String] = []
        for run in 0..<bench.runs {
            let result = measureAssignment(grids: bench.grids, decisions: 1_000_000)
            p99s.append(result.p99)
            notes.append(String(format: "p50 %.2f µs, p99 %.2f µs, max %.1f µs", result.p50, result.p99, result.max))
            bench.log("(k) run \(run + 1): \(notes.last!)")
        }
        bench.rows.append(
            (
                "(k) assignment decision (least load), \(bench.grids) grids, 1,000,000 decisions", String(format: "p99 %.2f µs", median(p99s)),
                notes.joined(separator: "; ")
            )
        )
    }
}
