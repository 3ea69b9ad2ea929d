import CServiceNotify
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where one plugin reports its state, by systemd's notification protocol (sd_notify(3)): a
/// datagram socket in the abstract namespace whose name the plugin gets as `$NOTIFY_SOCKET`.
/// Only what the plugin's own processes send counts: the kernel attaches each sender's pid, and
/// a datagram from outside the plugin's process group is dropped.
final class NotifySocket {
    let name: String
    private(set) var descriptor: Int32

    /// One socket per plugin and daemon process: `@gridbusd/<daemon pid>/<plugin>`.
    init(plugin: String) throws(NotifySocketError) {
        name = "@gridbusd/\(getpid())/\(plugin)"
        descriptor = gridbus_notify_listen(name)
        guard descriptor >= 0 else { throw NotifySocketError(name: name, code: -descriptor) }
    }

    /// Every datagram waiting, as its fields, from the process group `group` only.
    func receive(from group: pid_t) -> [[String: String]] {
        var messages: [[String: String]] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        while descriptor >= 0 {
            var sender: pid_t = 0
            let count = gridbus_notify_receive(descriptor, &buffer, buffer.count, &sender)
            if count == -Int(EMSGSIZE) { continue }
            guard count >= 0 else { break }
            guard sender > 0, sender == group || getpgid(sender) == group else { continue }
            let text = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            messages.append(Self.fields(of: text))
        }
        return messages
    }

    /// `KEY=VALUE` lines; a line without `=` is ignored, as systemd does.
    static func fields(of message: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in message.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }

    func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }
}

struct NotifySocketError: Error, CustomStringConvertible {
    let name: String
    let code: Int32
    var description: String { "cannot listen on the notification socket \(name): \(String(cString: strerror(code)))" }
}
