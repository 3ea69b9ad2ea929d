import Foundation
import GridSchema
import Logging
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor thread: starts every plugin in order, forwards their output into the log,
/// restarts them by their policy, and on stop ends them in reverse order.
///
/// One thread owns every child, and it stays alive as long as they run: `PR_SET_PDEATHSIG` is tied
/// to the thread that forked, so children die with it — and with the daemon, even on `kill -9`.
struct SupervisorLoop {
    let manifests: [PluginManifest]
    let environment: PluginEnvironment
    let board: PluginBoard
    let logger: Logger
    let stop: StopFlag
    let wakeup: ZMQWakeup
    let clock: @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }

    private final class Slot {
        let manifest: PluginManifest
        var tracker: RestartTracker
        var child: ChildProcess?
        var pending: [[UInt8]] = [[], []]
        var nextStart: Double?
        /// Where it reports its state (``NotifySocket``): one for all its runs.
        var notify: NotifySocket?
        init(_ manifest: PluginManifest) {
            self.manifest = manifest
            self.tracker = RestartTracker(manifest: manifest)
        }
    }

    func run() {
        let reaper = GroupReaper(logger: logger)
        defer { reaper?.close() }
        let slots = manifests.map(Slot.init)
        let parent = ProcessInfo.processInfo.environment
        for slot in slots { start(slot, parent: parent, reaper: reaper) }
        while !stop.isSet {
            var descriptors = [pollfd(fd: wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            var owners: [(Slot, Source)] = []
            for slot in slots {
                guard let child = slot.child else { continue }
                descriptors.append(pollfd(fd: child.exitDescriptor, events: Int16(POLLIN), revents: 0))
                owners.append((slot, .exit))
                for (stream, fd) in child.outputs.enumerated() where fd >= 0 {
                    descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                    owners.append((slot, .output(stream)))
                }
                if let notify = slot.notify {
                    descriptors.append(pollfd(fd: notify.descriptor, events: Int16(POLLIN), revents: 0))
                    owners.append((slot, .notify))
                }
            }
            let now = clock()
            let nextStart = slots.compactMap(\.nextStart).min()
            let timeout = nextStart.map { Int32(max(0, min(1000, ($0 - now) * 1000)).rounded(.up)) } ?? 1000
            _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if descriptors[0].revents != 0 { wakeup.drain() }
            for (index, (slot, source)) in owners.enumerated() where descriptors[index + 1].revents != 0 {
                switch source {
                case .output(let stream): forward(slot, stream: stream)
                case .notify: heard(slot)
                case .exit: break
                }
            }
            for (index, (slot, source)) in owners.enumerated() where source == .exit && descriptors[index + 1].revents != 0 {
                exited(slot, reaper: reaper)
            }
            let later = clock()
            for slot in slots where (slot.nextStart ?? .infinity) <= later && !stop.isSet {
                slot.nextStart = nil
                board.restarted(slot.manifest.name)
                start(slot, parent: parent, reaper: reaper)
            }
        }
        for slot in slots.reversed() { shutDown(slot, reaper: reaper) }
        for slot in slots { slot.notify?.close() }
    }

    /// What a descriptor the loop polls belongs to.
    private enum Source: Equatable {
        case exit
        case output(Int)
        case notify
    }

    private func start(_ slot: Slot, parent: [String: String], reaper: GroupReaper?) {
        let manifest = slot.manifest
        try? FileManager.default.createDirectory(atPath: "\(environment.dataDirectory)/\(manifest.name)", withIntermediateDirectories: true)
        openNotifySocket(slot)
        do {
            let child = try ChildProcess.spawn(
                executable: manifest.executable,
                arguments: manifest.arguments,
                environment: environment.variables(for: manifest, inheriting: parent, notifySocket: slot.notify?.name),
                directory: manifest.workingDirectory,
                now: clock()
            )
            slot.child = child
            reaper?.watch(group: child.pid)
            board.set(manifest.name, .running, pid: child.pid)
            logger.info("plugin started", metadata: ["plugin": "\(manifest.name)", "plugin.pid": "\(child.pid)"])
        } catch {
            logger.error("plugin could not be started", metadata: ["plugin": "\(manifest.name)", "error": "\(error)"])
            board.exited(manifest.name, error.description)
            decide(slot, success: false, ranFor: 0)
        }
    }

    /// The plugin's socket, opened at its first start; what an earlier run left unread is dropped.
    private func openNotifySocket(_ slot: Slot) {
        guard let notify = slot.notify else {
            do throws(NotifySocketError) { slot.notify = try NotifySocket(plugin: slot.manifest.name) } catch {
                logger.warning("the plugin cannot report its state", metadata: ["plugin": "\(slot.manifest.name)", "error": "\(error)"])
            }
            return
        }
        _ = notify.receive(from: 0)
    }

    /// The plugin reported its state: readiness, status, and a shared store's role.
    private func heard(_ slot: Slot) {
        guard let child = slot.child, let notify = slot.notify else { return }
        for fields in notify.receive(from: child.pid) {
            board.reported(slot.manifest.name, fields)
        }
    }

    /// The process ended by itself: reap it, clear up its group, and apply the restart policy.
    private func exited(_ slot: Slot, reaper: GroupReaper?) {
        guard let child = slot.child, let status = child.reap(blocking: false) else { return }
        finish(slot, reaper: reaper)
        let ranFor = clock() - child.startedAt
        board.exited(slot.manifest.name, status.description)
        let metadata: Logger.Metadata = [
            "plugin": "\(slot.manifest.name)", "plugin.pid": "\(child.pid)", "plugin.exit": "\(status)",
            "plugin.ran.seconds": "\(String(format: "%.1f", ranFor))",
        ]
        if status.success { logger.notice("plugin exited", metadata: metadata) } else { logger.error("plugin crashed", metadata: metadata) }
        decide(slot, success: status.success, ranFor: ranFor)
    }

    private func decide(_ slot: Slot, success: Bool, ranFor: Double) {
        let name = slot.manifest.name
        switch slot.tracker.exited(success: success, ranFor: ranFor, at: clock()) {
        case .restart(let delay):
            slot.nextStart = clock() + delay
            board.set(name, .restarting)
            logger.info("plugin will restart", metadata: ["plugin": "\(name)", "restart.in.seconds": "\(delay)"])
        case .stay:
            board.set(name, .exited)
        case .giveUp(let crashes, let window):
            board.set(name, .failed)
            logger.critical(
                "plugin keeps crashing; gave up restarting it (fix it, then restart gridbusd)",
                metadata: ["plugin": "\(name)", "plugin.crashes": "\(crashes)", "window.seconds": "\(window)"]
            )
        }
    }

    /// SIGTERM to the plugin's process group, SIGKILL after its stop timeout.
    private func shutDown(_ slot: Slot, reaper: GroupReaper?) {
        slot.nextStart = nil
        guard let child = slot.child else {
            if board.plugins.first(where: { $0.name == slot.manifest.name })?.state == PluginBoard.State.restarting.rawValue {
                board.set(slot.manifest.name, .stopped)
            }
            return
        }
        let name = slot.manifest.name
        board.set(name, .stopping, pid: child.pid)
        child.signalGroup(SIGTERM)
        let deadline = clock() + slot.manifest.stopTimeout
        var status: ExitStatus?
        while status == nil {
            let remaining = deadline - clock()
            if remaining <= 0 {
                logger.warning(
                    "plugin did not stop in time; killing it",
                    metadata: ["plugin": "\(name)", "stop.timeout": "\(slot.manifest.stopTimeout)"]
                )
                child.signalGroup(SIGKILL)
                status = child.reap(blocking: true)
                break
            }
            var descriptors = [pollfd(fd: child.exitDescriptor, events: Int16(POLLIN), revents: 0)]
            descriptors += (slot.child?.outputs ?? []).filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&descriptors, nfds_t(descriptors.count), Int32(min(remaining * 1000, 100).rounded(.up)))
            for stream in 0..<2 { forward(slot, stream: stream) }
            status = child.reap(blocking: false)
        }
        finish(slot, reaper: reaper)
        board.exited(name, status?.description ?? "unknown")
        board.set(name, .stopped)
        logger.info("plugin stopped", metadata: ["plugin": "\(name)", "plugin.exit": "\(status?.description ?? "unknown")"])
    }

    /// After the main process ended: what it printed last, then nothing of its group left behind.
    private func finish(_ slot: Slot, reaper: GroupReaper?) {
        for stream in 0..<2 { forward(slot, stream: stream, final: true) }
        guard var child = slot.child else { return }
        child.signalGroup(SIGKILL)
        reaper?.forget(group: child.pid)
        child.closeAll()
        slot.child = nil
    }

    /// Reads what a plugin wrote and logs it line by line, tagged with the plugin's name.
    private func forward(_ slot: Slot, stream: Int, final: Bool = false) {
        guard var child = slot.child, child.outputs[stream] >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(child.outputs[stream], &buffer, buffer.count)
            if count > 0 {
                slot.pending[stream] += buffer[0..<count]
                continue
            }
            if count == 0 {  // end of stream: the plugin (and anything it started) closed it
                close(child.outputs[stream])
                child.outputs[stream] = -1
                slot.child = child
            }
            break
        }
        var pending = slot.pending[stream][...]
        while let newline = pending.firstIndex(of: 10) ?? (pending.count > 16384 ? pending.startIndex + 16384 : nil) {
            emit(slot, stream: stream, pending[pending.startIndex..<newline])
            pending = pending[(newline < pending.endIndex && pending[newline] == 10 ? newline + 1 : newline)...]
        }
        if (final || child.outputs[stream] < 0) && !pending.isEmpty {
            emit(slot, stream: stream, pending)
            pending = []
        }
        slot.pending[stream] = Array(pending)
    }

    private func emit(_ slot: Slot, stream: Int, _ line: ArraySlice<UInt8>) {
        guard !line.isEmpty else { return }
        logger.info(
            "\(String(decoding: line, as: UTF8.self))",
            metadata: ["plugin": "\(slot.manifest.name)", "stream": "\(stream == 0 ? "stdout" : "stderr")"]
        )
    }
}
