import Foundation
import GridSchema
import Testing

@testable import GridBusDaemon

@Suite struct JournalTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString).sqlite").path

    func incoming(_ id: String, source: String = "test", grid: String? = "G-1", padding: Int = 0) throws -> IncomingEvent {
        let gridAttribute = grid.map { #","grid":"\#($0)""# } ?? ""
        let text =
            #"{"specversion":"1.0","id":"\#(id)","source":"\#(source)","type":"incident.reported"\#(gridAttribute),"data":{"pad":"\#(String(repeating: "x", count: padding))"}}"#
        let bytes = Array(text.utf8)
        return IncomingEvent(
            envelope: try EnvelopeScanner.scan(bytes),
            bytes: bytes,
            reply: ReplyAddress(routingID: [1], delimited: false),
            token: []
        )
    }

    @Test func sequencesAreContiguousAndDuplicatesKeepTheirFirstSequence() throws {
        let journal = try Journal(path: path, durability: .normal)
        let first = journal.append([try incoming("a"), try incoming("b"), try incoming("a")], receivedAt: 1000)
        #expect(first.outcomes == [.appended(1), .appended(2), .duplicate(1)])
        #expect(first.written.map(\.sequence) == [1, 2])
        let second = journal.append([try incoming("b"), try incoming("c"), try incoming("a", source: "other")], receivedAt: 1001)
        #expect(second.outcomes == [.duplicate(2), .appended(3), .appended(4)])
        #expect(journal.head == 4 && journal.tail == 1 && journal.eventCount == 4)
    }

    @Test func storedBytesCarryTheSequenceAndTheTopic() throws {
        let journal = try Journal(path: path, durability: .normal)
        let entry = try #require(journal.append([try incoming("a", grid: nil)], receivedAt: 1).written.first)
        #expect(String(decoding: entry.topic, as: UTF8.self) == "incident.reported/-")
        #expect(try CloudEvent.decode(entry.event).sequence == 1)
        let reader = try JournalReader(path: path)
        let read = try reader.read(after: 0, prefixes: [[]], limit: 10, scanLimit: 100)
        #expect(read.entries == [entry])
    }

    @Test func reopeningKeepsHeadTailAndSize() throws {
        var bytes: Int64 = 0
        do {
            let journal = try Journal(path: path, durability: .full)
            _ = journal.append((0..<10).map { try! incoming("e\($0)") }, receivedAt: 1)
            bytes = journal.eventBytes
        }
        let reopened = try Journal(path: path, durability: .full)
        #expect(reopened.head == 10 && reopened.tail == 1 && reopened.eventBytes == bytes)
        #expect(reopened.append([try incoming("e3")], receivedAt: 2).outcomes == [.duplicate(4)])
        #expect(reopened.append([try incoming("new")], receivedAt: 2).outcomes == [.appended(11)])
    }

    @Test func retentionRemovesOldEventsFromTheTail() throws {
        let journal = try Journal(path: path, durability: .normal)
        _ = journal.append((0..<5).map { try! incoming("old\($0)") }, receivedAt: 1_000_000)
        _ = journal.append((0..<5).map { try! incoming("new\($0)") }, receivedAt: 2_000_000)
        let removed = try journal.enforceRetention(now: Date(timeIntervalSince1970: 2_000 + 10), maxAge: 500, maxBytes: .max)
        #expect(removed == 5)
        #expect(journal.tail == 6 && journal.head == 10 && journal.eventCount == 5)
        let reader = try JournalReader(path: path)
        #expect(try reader.read(after: 0, prefixes: [[]], limit: 100, scanLimit: 100).entries.map(\.sequence) == [6, 7, 8, 9, 10])
    }

    @Test func retentionBySizeKeepsTheNewestWithinTheLimit() throws {
        let journal = try Journal(path: path, durability: .normal)
        _ = journal.append((0..<10).map { try! incoming("e\($0)", padding: 1000) }, receivedAt: 1)
        let perEvent = journal.eventBytes / 10
        try journal.enforceRetention(now: Date(timeIntervalSince1970: 0), maxAge: .infinity, maxBytes: Int(perEvent * 3 + 1))
        #expect(journal.eventCount == 3)
        #expect(journal.tail == 8)
        #expect(journal.eventBytes <= perEvent * 3 + 1)
    }

    @Test func aFullJournalFailsTheWholeBatchAndKeepsItsHead() throws {
        let journal = try Journal(path: path, durability: .normal, maxFileSize: 128 * 1024)
        var appended = 0
        var failure: String?
        for batch in 0..<200 {
            let result = journal.append((0..<10).map { try! incoming("b\(batch)-\($0)", padding: 1000) }, receivedAt: 1)
            if case .failed(let reason) = result.outcomes.first {
                failure = reason
                #expect(result.written.isEmpty)
                #expect(result.outcomes.allSatisfy { if case .failed = $0 { true } else { false } })
                break
            }
            appended += 10
        }
        #expect(failure?.contains("full") == true)
        #expect(journal.head == UInt64(appended))
        // Retention frees space; the journal then accepts again, the failed batch's events as new ones.
        try journal.enforceRetention(now: Date(), maxAge: .infinity, maxBytes: 10_000)
        let failedBatch = appended / 10
        #expect(journal.append([try incoming("after"), try incoming("b\(failedBatch)-0")], receivedAt: 2).outcomes
            == [.appended(UInt64(appended) + 1), .appended(UInt64(appended) + 2)])
    }
}
