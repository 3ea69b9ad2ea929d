import Foundation
import GridBusTestSupport
import GridDistrict
import GridLoad

#if canImport(Glibc)
import Glibc
#endif

/// (t) The workers' stores on PostgreSQL against SQLite, in one sitting: the end-to-end run of (p)
/// at `--stores-rate` reports a second for `--stores-seconds`, first with SQLite stores, then with
/// every worker's store on a local PostgreSQL server (whose CPU counts as a sixth process); then
/// each worker run twice on PostgreSQL, its active instance killed with -9 `--stores-kills` times:
/// the seconds from the kill to the standby answering `/healthz` as the active instance.
struct WorkerStores: Measurement {
    static let letters = "t"
    static let workers = ["grid-intake", "grid-dispatcher", "grid-notifier", "grid-stats"]

    static func run(_ bench: Bench) throws {
        bench.log("(t) starting PostgreSQL for the workers' stores")
        // With --stores-census, pg_stat_statements counts every statement the workers send.
        let census = bench.storesCensus
        let server = try PostgresTestServer(
            name: "bench-stores",
            configuration: census ? ["shared_preload_libraries = 'pg_stat_statements'", "pg_stat_statements.track_planning = on"] : []
        )
        defer { try? server.stop() }
        if census { try server.psql("CREATE EXTENSION pg_stat_statements") }
        let postmaster = try ClusterJournal.postmasterPID(server)
        let sample = try District.load(directory: bench.district)
        var runs: [(store: String, run: EndToEndRun)] = []
        for store in ["sqlite", "postgresql"] where bench.storesSeconds > 0 {
            bench.log("(t) end to end at \(bench.storesRate)/s for \(bench.storesSeconds) s, stores on \(store)")
            var arguments: [String] = []
            var serverCPU: (@Sendable () -> Double)?
            if store == "postgresql" {
                arguments = ["--store-backend", "postgresql", "--store-url", try server.makeDatabase("stores")]
                serverCPU = { processTreeCPUSeconds(pid: postmaster) }
                if census { try server.psql("SELECT pg_stat_statements_reset()") }
            }
            let run = try measureEndToEnd(
                bin: bench.binDirectory,
                workDirectory: bench.workDirectory + "/stores-\(store)",
                context: bench.context,
                district: sample,
                districtDirectory: bench.district,
                rate: bench.storesRate,
                seconds: bench.storesSeconds,
                repeatInterval: 900,
                acknowledgeAfter: nil,
                storeArguments: arguments,
                storeServerCPU: serverCPU
            )
            runs.append((store, run))
            if store == "postgresql", census { try logStatements(bench, server: server, reports: run.accepted) }
        }
        func milliseconds(_ run: EndToEndRun) -> Double { 1000 * run.cpu.map(\.seconds).reduce(0, +) / Double(max(run.accepted, 1)) }
        for (store, run) in runs {
            let note =
                String(format: "p50 %.1f ms, p99 %.1f ms; %d accepted, %d notified; CPU seconds: ", run.p50, run.p99, run.accepted, run.notified)
                + run.cpu.map { String(format: "%@ %.1f", $0.name, $0.seconds) }.joined(separator: ", ")
            bench.log("(t) \(store): \(String(format: "%.2f", milliseconds(run))) ms of CPU per report; \(note)")
            bench.rows.append(
                (
                    "(t) end to end, \(bench.storesRate) reports/s for \(bench.storesSeconds) s, worker stores on \(store): CPU per report, all processes",
                    String(format: "%.2f ms", milliseconds(run)), note
                )
            )
        }
        if runs.count == 2 {
            let ratio = milliseconds(runs[1].run) / milliseconds(runs[0].run)
            bench.log("(t) PostgreSQL stores cost \(String(format: "%.2f", ratio)) × the CPU per report of SQLite stores")
            bench.rows.append(
                ("(t) CPU per report, PostgreSQL stores ÷ SQLite stores (same sitting)", String(format: "%.2f ×", ratio), "target ≤ 1.5 ×")
            )
        }

        let seconds = try takeovers(bench, server: server)
        for (worker, times) in seconds {
            let sorted = times.sorted()
            let note = "each: " + times.map { String(format: "%.2f", $0) }.joined(separator: ", ") + " s"
            bench.log("(t) \(worker) takeovers: \(note)")
            bench.rows.append(
                (
                    "(t) \(worker): kill -9 of the active instance → the standby answers as active (\(times.count) kills)",
                    String(format: "median %.2f s, max %.2f s", sorted[sorted.count / 2], sorted.last ?? 0), note
                )
            )
        }
    }

    /// The statements PostgreSQL ran most often in the run: calls and milliseconds per report
    /// (planning and execution; parsing, the round trip and the commit are not counted here).
    static func logStatements(_ bench: Bench, server: PostgresTestServer, reports: Int) throws {
        let lines = try server.psql(
            """
            SELECT calls, round((total_plan_time + total_exec_time)::numeric, 1), \
            regexp_replace(left(query, 110), '\\s+', ' ', 'g') \
            FROM pg_stat_statements ORDER BY calls DESC LIMIT 45
            """,
            database: "postgres"
        )
        let total = try server.psql("SELECT sum(calls) FROM pg_stat_statements")
        bench.log("(t) statements on PostgreSQL: \(total) in all, per report (\(reports) reports):")
        for line in lines.split(separator: "\n") {
            let fields = line.split(separator: "|", maxSplits: 2)
            guard fields.count == 3, let calls = Double(fields[0]), let milliseconds = Double(fields[1]) else { continue }
            let perReport = Double(max(reports, 1))
            bench.log(String(format: "(t)   %6.2f calls, %6.3f ms  ", calls / perReport, milliseconds / perReport) + fields[2])
        }
    }

    /// Each worker twice on one PostgreSQL store, on one bus: the active instance killed `--stores-kills`
    /// times and started again (as the standby); the seconds from each kill to the other answering as active.
    static func takeovers(_ bench: Bench, server: PostgresTestServer) throws -> [(worker: String, seconds: [Double])] {
        let directory = bench.workDirectory + "/takeovers"
        let (daemon, ingress, egress, replay) = try startDaemon(bin: bench.binDirectory, directory: directory + "/bus")
        defer { daemon.stop() }
        let secret = try writeWebhookSecret(in: directory)
        let notifier = ["--webhook-url", "http://127.0.0.1:9/hook", "--webhook-secret-file", secret, "--channels-dir", directory + "/none"]
        var results: [(worker: String, seconds: [Double])] = []
        for worker in workers {
            let url = try server.makeDatabase("takeover")
            let ports = [try freePort(bench.context), try freePort(bench.context)]
            func start(_ instance: Int) throws -> Server {
                try Server(
                    bench.binDirectory.appendingPathComponent(worker),
                    [
                        "--data-dir", "\(directory)/\(worker)-\(instance)", "--http-port", "\(ports[instance])", "--district-dir", bench.district,
                        "--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay, "--log-level", "warning", "--auth-mode", "none",
                        "--store-backend", "postgresql", "--store-url", url,
                    ] + (worker == "grid-notifier" ? notifier : []),
                    log: "\(directory)/\(worker)-\(instance).log"
                )
            }
            var instances = [try start(0), try start(1)]
            defer { for instance in instances { instance.stop() } }
            // Either may win the lease: the first to prepare it.
            guard within(30, { Set([role(ports[0]), role(ports[1])]) == ["active", "standby"] }) else {
                throw BenchError("\(worker): its two instances did not start as active and standby; see \(directory)")
            }
            var seconds: [Double] = []
            for _ in 0..<bench.storesKills {
                let active = role(ports[0]) == "active" ? 0 : 1
                let standby = 1 - active
                kill(instances[active].pid, SIGKILL)
                let killed = now()
                instances[active].process.waitUntilExit()
                guard within(30, { role(ports[standby]) == "active" }) else { throw BenchError("\(worker): the standby did not take over in 30 s") }
                seconds.append(Double(now() - killed) / 1e9)
                instances[active] = try start(active)
                guard within(30, { role(ports[active]) == "standby" }) else { throw BenchError("\(worker): the restarted instance did not wait") }
            }
            results.append((worker, seconds))
        }
        return results
    }

    /// `active` when the instance answers `/healthz` without a role, `standby` when it says so, nil when it does not answer.
    static func role(_ port: Int) -> String? {
        guard let connection = try? HTTPConnection(url: "http://127.0.0.1:\(port)", bearer: nil),
            let answer = try? connection.send("GET", "/healthz"), answer.status == 200
        else { return nil }
        return String(decoding: answer.body, as: UTF8.self).contains("\"standby\"") ? "standby" : "active"
    }

    /// Polls every 10 ms until `condition` holds (true) or `seconds` pass (false).
    static func within(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = now() + UInt64(seconds * 1e9)
        while now() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return false
    }
}
