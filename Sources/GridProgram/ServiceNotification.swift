import CServiceNotify
import Foundation

/// Tells the program's supervisor how it is, by systemd's notification protocol (sd_notify(3)):
/// gridbusd's plugin supervision and systemd (`Type=notify`) both set `$NOTIFY_SOCKET`. Without
/// it, nothing is sent. Besides systemd's `READY=1` and `STATUS=`, a worker instance that shares
/// its store says which it is: `X_GRIDBUS_ROLE=active|standby` and `X_GRIDBUS_EPOCH=` (the
/// store lease's epoch), which `gridctl status` shows (docs/plugins.md, "Status").
public enum ServiceNotification {
    /// Sends the fields as one datagram; a supervisor that cannot be reached is not an error of the
    /// program's, so failures are ignored (as sd_notify's callers do).
    public static func send(
        _ fields: [(key: String, value: String)],
        socket: String? = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"]
    ) {
        guard let socket, !socket.isEmpty else { return }
        let message = fields.map { "\($0.key)=\($0.value.replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n")
        _ = message.withCString { gridbus_notify_send(socket, $0, strlen($0)) }
    }
}

extension ServiceNotification {
    /// A program listens: `READY=1`, and for an instance that holds its store's lease, its role and epoch.
    static func ready(epoch: Int64?) -> [(key: String, value: String)] {
        guard let epoch else { return [("READY", "1"), ("STATUS", "running")] }
        return [("READY", "1"), ("STATUS", "active, store lease epoch \(epoch)"), ("X_GRIDBUS_ROLE", "active"), ("X_GRIDBUS_EPOCH", "\(epoch)")]
    }

    /// An instance waits for its store's lease, another being active.
    static let standby: [(key: String, value: String)] = [("STATUS", "standby, waiting for the store's lease"), ("X_GRIDBUS_ROLE", "standby")]
}
