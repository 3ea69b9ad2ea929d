import Foundation
import GridBusClient
import GridDispatch
import GridDistrict
import GridSchema
import GridSecurity
import ZeroMQ

/// (r) Foundation's JSON coders against the tree coders.
struct CodecComparison: Measurement {
    static let letters = "r"

    static func run(_ bench: Bench) throws {
        var samples: [CodecTimes] = []
        for run in 0..<bench.runs {
            samples.append(try measureCodecs(passes: 20_000))
            let last = samples.last!
            bench.log(
                String(
                    format: "(r) run %d: encode %.2f / %.2f µs, decode %.2f / %.2f µs (Foundation / tree)",
                    run + 1,
                    last.foundationEncode,
                    last.treeEncode,
                    last.foundationDecode,
                    last.treeDecode
                )
            )
        }
        let encode = (median(samples.map(\.foundationEncode)), median(samples.map(\.treeEncode)))
        let decode = (median(samples.map(\.foundationDecode)), median(samples.map(\.treeDecode)))
        bench.rows.append(
            (
                "(r) a payload encoded / decoded, Foundation's coders against the tree coders (mean over the \(samples[0].types) event types)",
                String(
                    format: "encode %.2f → %.2f µs (%.1f×), decode %.2f → %.2f µs (%.1f×)",
                    encode.0,
                    encode.1,
                    encode.0 / encode.1,
                    decode.0,
                    decode.1,
                    decode.0 / decode.1
                ),
                "medians of \(bench.runs) runs of 20,000 passes"
            )
        )
    }
}
