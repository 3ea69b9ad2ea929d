import GridSchema
import Testing

@Suite struct ChainKeyTests {
    func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test func aKeyListsItsPrefixesSortedOnceAndEndsInANewline() {
        #expect(text(BusProtocol.chainKey(prefixes: ["incident.", "grid.mode.changed/", "incident."])) == "bus.chain/grid.mode.changed/|incident.\n")
        #expect(BusProtocol.chainKey(prefixes: ["b", "a"]) == BusProtocol.chainKey(prefixes: ["a", "b"]))
    }

    @Test func nothingToChainOrPrefixesThatCannotBeListedGiveNoKey() {
        for prefixes in [[], [""], ["incident.", ""], ["a|b"], ["a\nb"]] {
            #expect(BusProtocol.chainKey(prefixes: prefixes) == nil, "\(prefixes)")
        }
    }

    @Test func aKeyReadsBackAsItsPrefixes() throws {
        let key = try #require(BusProtocol.chainKey(prefixes: ["incident.dispatched/G-1", "grid.mode.changed/"]))
        #expect(BusProtocol.chainPrefixes(ofKey: key)?.map { text($0)! } == ["grid.mode.changed/", "incident.dispatched/G-1"])
        for notAKey in ["incident.", "", "bus.chain/", "bus.chain/a", "bus.chain/\n", "bus.chain/a||b\n", "bus.chain/a|\n", "bus.chain/a\nb\n"] {
            #expect(BusProtocol.chainPrefixes(ofKey: Array(notAKey.utf8)) == nil, "\(notAKey)")
        }
    }

    /// ZeroMQ matches by prefix: were one key a prefix of another, its subscribers would also receive
    /// the other chain's copies, whose `previous` belongs to a different set of prefixes.
    @Test func noKeyIsAPrefixOfAnother() throws {
        let short = try #require(BusProtocol.chainKey(prefixes: ["a"]))
        let long = try #require(BusProtocol.chainKey(prefixes: ["a", "b"]))
        let longer = try #require(BusProtocol.chainKey(prefixes: ["ab"]))
        #expect(!long.starts(with: short))
        #expect(!longer.starts(with: short))
    }
}
