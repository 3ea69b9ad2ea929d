import CZeroMQ
import GridSecurity
import Logging
import Synchronization
import ZeroMQ

/// Counts CURVE handshakes that fail before the ZAP handler is asked (garbage, truncated or forged
/// HELLOs): libzmq reports them only as socket monitor events. Refusals by the ZAP handler are
/// counted there, with their reason, and not again here.
///
/// Socket threads call ``watch(_:name:)``; one thread reads every monitor.
final class HandshakeMonitor: Sendable {
    private let pending = Mutex<[String]>([])
    private let wakeup = ZMQWakeup()
    private let counter = Atomic<Int>(0)

    /// Starts monitoring `socket` (call on its thread, before `bind`).
    func watch(_ socket: ZMQSocket, name: String) throws(ZMQError) {
        let endpoint = "inproc://gridbusd-handshakes-\(name)-\(counter.add(1, ordering: .relaxed).newValue)"
        try socket.startMonitor(endpoint: endpoint, events: ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        pending.withLock { $0.append(endpoint) }
        wakeup.signal()
    }

    func run(context: ZMQContext, reporter: inout DenialReporter, stop: StopFlag, logger: Logger) {
        var monitors: [ZMQSocket] = []
        do {
            while !stop.isSet {
                for endpoint in pending.withLock({ taken in
                    defer { taken = [] }
                    return taken
                }) {
                    let pair = try ZMQSocket(context: context, type: .pair)
                    try pair.connect(endpoint)
                    monitors.append(pair)
                }
                var poller = ZMQPoller()
                for monitor in monitors { poller.add(monitor) }
                let wakeIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
                try poller.poll(timeoutMilliseconds: 100)
                if poller.events(at: wakeIndex).contains(.readable) { wakeup.drain() }
                var stopped: Set<Int> = []
                for (index, monitor) in monitors.enumerated() {
                    while let message = try monitor.receiveMessage(dontWait: true), let event = ZMQMonitorEvent(message) {
                        if event.kind == .monitorStopped {
                            stopped.insert(index)
                            break
                        }
                        // For an accepted connection the event names the peer: tcp://10.0.0.9:51234.
                        let peer = event.endpoint.split(separator: "/").last.map {
                            String($0.split(separator: ":").dropLast().joined(separator: ":"))
                        }
                        reporter.authenticationFailed(
                            peer: peer ?? "unknown",
                            reason: event.kind == .handshakeFailedProtocol ? "bad-handshake" : "handshake-failed"
                        )
                    }
                }
                monitors = monitors.enumerated().filter { !stopped.contains($0.offset) }.map(\.element)
            }
        } catch {
            if !error.isContextTerminated { logger.error("handshake monitor stopped", metadata: ["error": "\(error)"]) }
        }
    }
}
