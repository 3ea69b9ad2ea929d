import GridSchema
import Testing

@testable import GridBusDaemon

@Suite struct EgressChainsTests {
    func key(_ prefixes: String...) -> [UInt8] { BusProtocol.chainKey(prefixes: prefixes)! }
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Sends `topics` in order from sequence `first` and returns, per chain, the (sequence, previous)
    /// pairs its copies carried.
    func send(_ topics: [String], from first: UInt64, on chains: inout EgressChains) -> [String: [[UInt64]]] {
        var copies: [String: [[UInt64]]] = [:]
        for (offset, topic) in topics.enumerated() {
            let sequence = first + UInt64(offset)
            chains.advance(topic: bytes(topic), sequence: sequence) { key, previous in
                copies[String(decoding: key, as: UTF8.self), default: []].append([sequence, previous])
            }
        }
        return copies
    }

    @Test func eachCopyNamesTheChainsPreviousEventAndNoOtherTopic() {
        var chains = EgressChains()
        chains.register(key("incident.dispatched/"), lastSent: 0)
        chains.register(key("incident.", "grid.mode.changed/"), lastSent: 0)
        let copies = send(
            ["incident.reported/G-1", "incident.dispatched/G-1", "notification.sent/G-1", "grid.mode.changed/G-2", "incident.dispatched/G-3"],
            from: 1,
            on: &chains
        )
        #expect(copies["bus.chain/incident.dispatched/\n"] == [[2, 0], [5, 2]])
        #expect(copies["bus.chain/grid.mode.changed/|incident.\n"] == [[1, 0], [2, 1], [4, 2], [5, 4]])
    }

    /// Registered mid-stream, a chain cannot know its last match: it starts from the last sequence
    /// sent, which is never below it, so a subscriber may catch up once too often but never miss.
    @Test func aChainRegisteredMidStreamStartsFromTheLastSequenceSent() {
        var chains = EgressChains()
        chains.register(key("incident."), lastSent: 41)
        #expect(send(["incident.closed/G-1"], from: 42, on: &chains)["bus.chain/incident.\n"] == [[42, 41]])
    }

    @Test func onlyWholeKeysRegisterOnceEachUpToTheLimit() {
        var chains = EgressChains()
        let notKeys = [chains.register(bytes("incident."), lastSent: 0), chains.register(bytes("bus.chain/"), lastSent: 0)]
        #expect(notKeys == [.notAKey, .notAKey])
        let twice = [chains.register(key("a"), lastSent: 0), chains.register(key("a"), lastSent: 9)]
        #expect(twice == [.kept, .kept] && chains.count == 1)
        var kept = 1
        for n in 1..<EgressChains.limit where chains.register(key("p\(n)"), lastSent: 0) == .kept { kept += 1 }
        let beyond = chains.register(key("one-too-many"), lastSent: 0)
        #expect(kept == EgressChains.limit && beyond == .full)
        chains.remove(key("a"))
        #expect(chains.count == EgressChains.limit - 1)
        #expect(send(["a/G-1"], from: 1, on: &chains).isEmpty)
    }

    /// One identity allowed to subscribe cannot take every chain: past its share its keys are
    /// refused, the others' are not, and a chain it was refused is kept when another identity asks.
    @Test func anIdentityRegistersAtMostItsShareOfChains() {
        var chains = EgressChains()
        for n in 0..<EgressChains.limitPerIdentity {
            #expect(chains.register(key("x\(n)"), lastSent: 0, owner: "intruder") == .kept)
        }
        #expect(chains.register(key("incident."), lastSent: 0, owner: "intruder") == .identityFull)
        #expect(chains.register(key("x0"), lastSent: 0, owner: "intruder") == .kept)
        #expect(chains.register(key("incident."), lastSent: 7, owner: "grid-notifier") == .kept)
        #expect(send(["incident.closed/G-1"], from: 8, on: &chains)["bus.chain/incident.\n"] == [[8, 7]])
        // A chain that goes gives its owner's share back.
        chains.remove(key("x0"))
        #expect(chains.register(key("y"), lastSent: 0, owner: "intruder") == .kept)
        #expect(chains.count == EgressChains.limitPerIdentity + 1)
        // Without access lists there are no identities, and only the overall limit holds.
        for n in 0..<EgressChains.limitPerIdentity { chains.register(key("open\(n)"), lastSent: 0) }
        #expect(chains.count == 2 * EgressChains.limitPerIdentity + 1)
    }

    /// Every chain topic starts with `bus.chain/` and with each of its shorter prefixes: those ask
    /// for events, and are applied as one subscription per event type, so no copy reaches them.
    @Test func subscriptionsThatWouldAlsoMatchEveryChainAreAppliedPerEventType() throws {
        let everything = EgressChains.applied(forRequested: [])
        #expect(everything.count == EventType.allCases.count)
        #expect(everything.contains(bytes("incident.reported/")) && everything.contains(bytes("bus.heartbeat/")))
        #expect(!everything.contains { key("incident.").starts(with: $0) })
        #expect(EgressChains.applied(forRequested: bytes("bus.")) == [bytes("bus.heartbeat/")])
        for asked in ["incident.", "incident.reported/G-1", "bus.chain/", "bus.heartbeat/"] {
            #expect(EgressChains.applied(forRequested: bytes(asked)) == [bytes(asked)], "\(asked)")
        }
        #expect(EgressChains.applied(forRequested: key("incident.")) == [key("incident.")])
    }
}
