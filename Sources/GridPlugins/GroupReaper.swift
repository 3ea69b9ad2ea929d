import CProcessSpawn
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The guarantee behind "no orphans, even after `kill -9` of gridbusd": a helper process that
/// holds the list of live plugin process groups and kills them all once its pipe from gridbusd
/// closes — which the kernel does however gridbusd ends. See `gridbus_start_group_reaper`.
struct GroupReaper {
    private let descriptor: Int32
    private let pid: pid_t

    init?(logger: Logger) {
        var pid: pid_t = 0
        let descriptor = gridbus_start_group_reaper(&pid)
        guard descriptor >= 0 else {
            logger.error(
                "cannot start the plugin group reaper; helpers started by plugins may outlive a killed gridbusd",
                metadata: ["error": "\(String(cString: strerror(-descriptor)))"]
            )
            return nil
        }
        self.descriptor = descriptor
        self.pid = pid
    }

    func watch(group: pid_t) { send(Int32(group)) }
    func forget(group: pid_t) { send(-Int32(group)) }

    /// On a normal shutdown, after every plugin has stopped.
    func close() {
        _ = Glibc.close(descriptor)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private func send(_ value: Int32) {
        var value = value
        _ = withUnsafeBytes(of: &value) { write(descriptor, $0.baseAddress, $0.count) }
    }
}
