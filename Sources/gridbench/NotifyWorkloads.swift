import Foundation
import GridBusClient
import GridConfiguration
import GridJSON
import GridSchema
import HTTPTypes
import Hummingbird
import Synchronization
import ZeroMQ

/// A local webhook receiver for (m): counts requests, and notices once per Idempotency-Key (what
/// a receiver that drops repeated keys sees).
final class WebhookReceiver: Sendable {
    struct Counts {
        var requests = 0
        var keys = Set<String>()
        var notices = Set<String>()
        /// Notices seen again under a new key: duplicates in effect (must stay 0).
        var duplicates = 0
        var firstAt: Double?
        var lastAt: Double = 0
        /// When the first notice about each incident arrived (monotonic seconds), for (p).
        var firstNoticeAt: [String: Double] = [:]
        /// Dispatch notices in arrival order (incident, recipient, monotonic seconds), for (p)'s
        /// handlers, which take them in order from `dispatchNoticesTaken`.
        var dispatchNotices: [(incident: String, member: String, at: Double)] = []
        var dispatchNoticesTaken = 0
    }

    final class Tally: Sendable {
        let state = Mutex(Counts())
        func withLock<T>(_ body: (inout Counts) -> T) -> T { state.withLock { body(&$0) } }
    }

    let counts = Tally()
    let port: Int
    private let task: Task<Void, any Error>

    /// Starts the server on the concurrency pool; the caller's thread waits for its port.
    init() throws {
        let counts = self.counts
        let router = Router()
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? ""
            let object = try? JSONValue(parsing: Array(body.readableBytesView))
            let notices = object?["notifications"]?.arrayValue ?? []
            let ids = notices.compactMap { $0["id"]?.stringValue }
            let incidents = notices.compactMap { $0["incidentId"]?.stringValue }
            let member = object?["recipient"]?["id"]?.stringValue
            let dispatched = notices.compactMap { $0["type"]?.stringValue == "incident.dispatched" ? $0["incidentId"]?.stringValue : nil }
            counts.withLock { counts in
                counts.requests += 1
                let at = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
                counts.firstAt = counts.firstAt ?? at
                counts.lastAt = at
                for incident in incidents where counts.firstNoticeAt[incident] == nil { counts.firstNoticeAt[incident] = at }
                if let member { counts.dispatchNotices += dispatched.map { ($0, member, at) } }
                guard counts.keys.insert(key).inserted else { return }
                for id in ids where !counts.notices.insert(id).inserted { counts.duplicates += 1 }
            }
            return .ok
        }
        let portBox = Mutex<Int?>(nil)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "gridbench-receiver"),
            onServerRunning: { channel in portBox.withLock { $0 = channel.localAddress?.port } }
        )
        task = Task { try await app.runService() }
        var port: Int?
        for _ in 0..<500 where port == nil {
            usleep(20_000)
            port = portBox.withLock { $0 }
        }
        guard let port else { throw BenchError("the webhook receiver did not start") }
        self.port = port
    }

    func stop() { task.cancel() }
}

struct NotificationRun {
    var rate: Double
    var requests: Int
    var notices: Int
    var duplicates: Int
}

/// (m): `count` dispatches published onto the bus; grid-notifier sends each assignee a signed
/// webhook to the local receiver; it is killed with -9 a third of the way through and started
/// again. The rate is notices delivered (once each) per second, from the first publish to the last.
func measureNotifications(
    bin: URL,
    workDirectory: String,
    district: String,
    members: [String],
    count: Int,
    context: ZMQContext
) throws -> NotificationRun {
    let receiver = try WebhookReceiver()
    defer { receiver.stop() }
    let (daemon, ingress, egress, replay) = try startDaemon(bin: bin, directory: workDirectory + "/daemon-m")
    defer { daemon.stop() }
    let data = workDirectory + "/notifier"
    try? FileManager.default.removeItem(atPath: data)
    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    let secret = workDirectory + "/webhook.secret"
    _ = FileManager.default.createFile(
        atPath: secret,
        contents: Data("gridbench-webhook-secret-0123456789".utf8),
        attributes: [.posixPermissions: 0o600]
    )
    let rules = workDirectory + "/notifier-rules.yaml"
    try "group-wait: 0s\nquiet-hours: {roles: {}}\nchannel-order: [webhook]\nroutes:\n  - match: {type: incident.dispatched}\n    to: [assignees]\n"
        .write(toFile: rules, atomically: true, encoding: .utf8)
    func startNotifier() throws -> Server {
        try? FileManager.default.removeItem(atPath: data + "/grid-notifier.ready")
        let server = try Server(
            bin.appendingPathComponent("grid-notifier"),
            [
                "--data-dir", data, "--http-port", "0", "--district-dir", district, "--log-level", "warning", "--auth-mode", "none", "--rules-file",
                rules,
                "--webhook-url", "http://127.0.0.1:\(receiver.port)/hook", "--webhook-secret-file", secret, "--channels-dir", data + "/none",
                "--delivery-interval", "10ms", "--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay,
            ],
            log: workDirectory + "/notifier.log"
        )
        guard ListeningAddresses.awaitReadyFile(data + "/grid-notifier.ready") != nil else {
            server.stop()
            throw BenchError("grid-notifier did not start; see \(workDirectory)/notifier.log")
        }
        return server
    }
    var notifier = try startNotifier()
    let started = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    try onThread("dispatches") {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.setSendHighWaterMark(0)
        try dealer.setReceiveHighWaterMark(0)
        try dealer.setReceiveTimeout(milliseconds: 30_000)
        try dealer.connect(ingress)
        var (sent, acked) = (0, 0)
        while acked < count {
            while sent < count && sent - acked < 2000 {
                let event = """
                    {"specversion":"1.0","id":"bench-\(sent)-2","source":"grid-dispatcher","type":"incident.dispatched","time":"2026-11-27T10:00:00Z",\
                    "subject":"bench-\(sent)","datacontenttype":"application/json","data":{"schemaVersion":1,"incidentId":"bench-\(sent)",\
                    "assignees":["\(members[sent % members.count])"],"role":"grid-worker","acknowledgeBy":"2026-11-27T10:30:00Z",\
                    "deadline":"2026-11-27T12:00:00Z","policy":"least-load"}}
                    """
                try dealer.send(frames: [BusProtocol.publish, BusProtocol.encode(UInt64(sent)), Array(event.utf8)])
                sent += 1
            }
            guard let answer = try dealer.receiveMessage(), answer.frames[0] == BusProtocol.ack else {
                throw BenchError("a dispatch was not acknowledged")
            }
            acked += 1
        }
    }
    // A third of the way: kill -9, then start again on the same store.
    let deadline = Date().addingTimeInterval(300)
    while receiver.counts.withLock({ $0.notices.count }) < count / 3 && Date() < deadline { usleep(5_000) }
    kill(notifier.pid, SIGKILL)
    notifier.process.waitUntilExit()
    notifier = try startNotifier()
    defer { notifier.stop() }
    while receiver.counts.withLock({ $0.notices.count }) < count && Date() < deadline { usleep(10_000) }
    let counts = receiver.counts.withLock { $0 }
    guard counts.notices.count == count else { throw BenchError("only \(counts.notices.count) of \(count) notices arrived within 300 s") }
    return NotificationRun(
        rate: Double(count) / (counts.lastAt - started),
        requests: counts.requests,
        notices: counts.notices.count,
        duplicates: counts.duplicates
    )
}
