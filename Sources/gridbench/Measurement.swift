import Foundation
import ZeroMQ

/// One measurement of gridbench: the letters of `gridbench WHICH` it answers to, and the run.
protocol Measurement: SendableMetatype {
    static var letters: String { get }
    static func run(_ bench: Bench) throws
}

/// What the measurements of one gridbench run share: the options, one ZeroMQ context, the rows and
/// sections they report, and what a later one puts its figures against ((a)'s rate for (b) and
/// (c), gridbusd's rates for (o)).
@dynamicMemberLookup
final class Bench {
    let options: GridBench
    /// The letters asked for (`all`: every measurement but the long ones, m, n, p, s and t).
    let selected: Set<Character>
    let binDirectory: URL
    let context = ZMQContext()
    /// Where the daemons of the bus measurements keep their journal.
    let daemonDirectory: String
    var rows: [(String, String, String)] = []
    var sections: [String] = []
    /// (a)'s median, when it ran.
    var baseline: Double?
    /// (b)'s and (c)'s medians, when they ran.
    var gridbusdNumbers: (acked: Double, fanOut: Double)?

    init(options: GridBench) {
        self.options = options
        selected = options.which == "all" ? Set("abcdefgijkloqr") : Set(options.which.filter { $0 != "," })
        binDirectory = URL(fileURLWithPath: options.bin)
        daemonDirectory = options.workDirectory + "/gridbusd"
    }

    subscript<Value>(dynamicMember option: KeyPath<GridBench, Value>) -> Value { options[keyPath: option] }

    func perSecond(_ value: Double) -> String { String(format: "%.0f /s", value) }

    /// Progress on stderr; the report goes to stdout.
    func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

    /// The rows as a Markdown table, then the sections.
    func report() -> String {
        var text = "| measurement | median of \(options.runs) | notes |\n| --- | --- | --- |\n"
        for (name, value, note) in rows { text += "| \(name) | \(value) | \(note) |\n" }
        for section in sections { text += "\n" + section }
        return text
    }
}
