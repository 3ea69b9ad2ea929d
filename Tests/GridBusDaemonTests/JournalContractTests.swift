import Foundation
import GridBusTestSupport
import GridPostgres
import GridSchema
import Logging
import Testing

@testable import GridBusDaemon

/// The journal's contract, proved on each backend: sequences without gaps, de-duplication by
/// `(source, id)` answering with the first sequence, a batch in one transaction, retention by age
/// and by bytes from the oldest end, replay by sequence and prefix. The PostgreSQL runs use a real
/// server (``PostgresTestServer``), a database per test.
@Suite struct JournalContractTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgresql
        var testDescription: String { rawValue }
    }

    /// One journal's place: opens writers and readers on it, as a daemon would after a restart.
    final class Place {
        let backend: Backend
        private let path = TemporaryFiles.store("journal")
        private let url: PostgresURL?
        private var open: [any JournalStorage] = []

        init(_ backend: Backend) throws {
            self.backend = backend
            url = backend == .postgresql ? try PostgresURL(parsing: PostgresTestServer.shared().makeDatabase("journal")) : nil
        }

        deinit { for journal in open { journal.close() } }

        var settings: PostgresJournalSettings { PostgresJournalSettings(url: url!, password: nil, advertise: { "tcp://127.0.0.1:7600" }) }

        /// A writer that leads: closing the one before hands its lease over, as a graceful restart does.
        func journal() throws -> any JournalStorage {
            for journal in open { journal.close() }
            open.removeAll()
            let journal: any JournalStorage =
                switch backend {
                case .sqlite: try SQLiteJournal(path: path, durability: .normal)
                case .postgresql: try PostgresJournal(settings: settings, logger: Logger(label: "test"))
                }
            _ = journal.maintain()
            #expect(journal.role.isLeader, "a lone journal leads")
            open.append(journal)
            return journal
        }

        func reader() throws -> any JournalReading {
            switch backend {
            case .sqlite: try SQLiteJournalReader(path: path)
            case .postgresql: PostgresJournalReader(settings: settings, logger: Logger(label: "test"))
            }
        }
    }

    static func incoming(
        _ id: String,
        source: String = "test",
        grid: String? = "G-1",
        type: String = "incident.reported",
        padding: Int = 0
    ) throws
        -> IncomingEvent
    {
        let gridAttribute = grid.map { #","grid":"\#($0)""# } ?? ""
        let text =
            #"{"specversion":"1.0","id":"\#(id)","source":"\#(source)","type":"\#(type)"\#(gridAttribute),"data":{"pad":"\#(String(repeating: "x", count: padding))"}}"#
        let bytes = Array(text.utf8)
        return IncomingEvent(
            envelope: try EnvelopeScanner.scan(bytes),
            bytes: bytes,
            reply: ReplyAddress(routingID: [1], delimited: false),
            token: []
        )
    }

    @Test(arguments: Backend.allCases)
    func sequencesAreContiguousAndDuplicatesKeepTheirFirstSequence(_ backend: Backend) throws {
        let place = try Place(backend)
        let journal = try place.journal()
        let first = journal.append([try Self.incoming("a"), try Self.incoming("b"), try Self.incoming("a")], receivedAt: 1000)
        #expect(first.outcomes == [.appended(1), .appended(2), .duplicate(1)])
        #expect(first.written.map(\.sequence) == [1, 2])
        let second = journal.append([try Self.incoming("b"), try Self.incoming("c"), try Self.incoming("a", source: "other")], receivedAt: 1001)
        #expect(second.outcomes == [.duplicate(2), .appended(3), .appended(4)])
        #expect(journal.head == 4 && journal.tail == 1 && journal.eventCount == 4)
        // A batch of nothing but duplicates takes no sequence.
        #expect(journal.append([try Self.incoming("c")], receivedAt: 1002).outcomes == [.duplicate(3)])
        #expect(journal.append([try Self.incoming("d")], receivedAt: 1002).outcomes == [.appended(5)])
    }

    @Test(arguments: Backend.allCases)
    func storedBytesCarryTheSequenceAndTheTopic(_ backend: Backend) throws {
        let place = try Place(backend)
        let journal = try place.journal()
        let entry = try #require(journal.append([try Self.incoming("a", grid: nil)], receivedAt: 1).written.first)
        #expect(String(decoding: entry.topic, as: UTF8.self) == "incident.reported/-")
        #expect(try CloudEvent.decode(entry.event).sequence == 1)
        let read = try place.reader().read(after: 0, prefixes: [[]], limit: 10, scanLimit: 100)
        #expect(read.entries == [entry])
    }

    @Test(arguments: Backend.allCases)
    func reopeningKeepsHeadTailSizeAndKeys(_ backend: Backend) throws {
        let place = try Place(backend)
        let journal = try place.journal()
        _ = journal.append((0..<10).map { try! Self.incoming("e\($0)") }, receivedAt: 1)
        let bytes = journal.eventBytes
        #expect(bytes > 0)
        let reopened = try place.journal()
        #expect(reopened.head == 10 && reopened.tail == 1 && reopened.eventBytes == bytes)
        #expect(reopened.append([try Self.incoming("e3")], receivedAt: 2).outcomes == [.duplicate(4)])
        #expect(reopened.append([try Self.incoming("new")], receivedAt: 2).outcomes == [.appended(11)])
    }

    @Test(arguments: Backend.allCases)
    func retentionRemovesOldEventsFromTheTail(_ backend: Backend) throws {
        let place = try Place(backend)
        let journal = try place.journal()
        _ = journal.append((0..<5).map { try! Self.incoming("old\($0)") }, receivedAt: 1_000_000)
        _ = journal.append((0..<5).map { try! Self.incoming("new\($0)") }, receivedAt: 2_000_000)
        let removed = try journal.enforceRetention(now: Date(timeIntervalSince1970: 2_000 + 10), maxAge: 500, maxBytes: .max)
        #expect(removed == 5)
        #expect(journal.tail == 6 && journal.head == 10 && journal.eventCount == 5)
        #expect(try place.reader().read(after: 0, prefixes: [[]], limit: 100, scanLimit: 100).entries.map(\.sequence) == [6, 7, 8, 9, 10])
        // A removed event's key goes with it: publishing it again is a new event.
        #expect(
            journal.append([try Self.incoming("old0"), try Self.incoming("new0")], receivedAt: 2_000_001).outcomes == [.appended(11), .duplicate(6)]
        )
    }

    @Test(arguments: Backend.allCases)
    func retentionBySizeKeepsTheNewestWithinTheLimit(_ backend: Backend) throws {
        let place = try Place(backend)
        let journal = try place.journal()
        for index in 0..<10 { _ = journal.append([try Self.incoming("e\(index)", padding: 1000)], receivedAt: 1) }
        let perEvent = journal.eventBytes / 10
        try journal.enforceRetention(now: Date(timeIntervalSince1970: 0), maxAge: .infinity, maxBytes: Int(perEvent * 3 + 1))
        #expect(journal.eventCount == 3 && journal.tail == 8)
        #expect(journal.eventBytes <= perEvent * 3 + 1)
        // What is kept survives a restart.
        let reopened = try place.journal()
        #expect(reopened.tail == 8 && reopened.head == 10 && reopened.eventBytes == journal.eventBytes)
    }

    @Test(arguments: Backend.allCases)
    func replayReadsBySequenceAndPrefixWithinTheScanLimit(_ backend: Backend) throws {
        let place = try Place(backend)
        let journal = try place.journal()
        // Every third event is in grid G-7; the rest in G-1.
        let events = try (0..<300).map { try Self.incoming("e\($0)", grid: $0 % 3 == 0 ? "G-7" : "G-1") }
        let written = journal.append(events, receivedAt: 1).written
        #expect(written.map(\.sequence) == Array(1...300))
        let reader = try place.reader()
        let page = try reader.read(after: 40, prefixes: [[]], limit: 100, scanLimit: 1000)
        #expect(page.entries == Array(written[40..<140]) && page.lastExamined == 140)
        let grid7 = try reader.read(after: 0, prefixes: [Array("incident.reported/G-7".utf8)], limit: 10, scanLimit: 1000)
        #expect(grid7.entries.map(\.sequence) == [1, 4, 7, 10, 13, 16, 19, 22, 25, 28] && grid7.lastExamined == 28)
        // A sparse prefix: the scan limit bounds the answer, and the next request starts after what was examined.
        let sparse = try reader.read(after: 140, prefixes: [Array("nothing".utf8)], limit: 100, scanLimit: 30)
        #expect(sparse.entries.isEmpty && sparse.lastExamined == 170)
        let two = try reader.read(after: 290, prefixes: [Array("incident.reported/G-7".utf8), Array("nothing".utf8)], limit: 100, scanLimit: 1000)
        #expect(two.entries.map(\.sequence) == [292, 295, 298] && two.lastExamined == 300)
        #expect(try reader.read(after: 300, prefixes: [[]], limit: 100, scanLimit: 1000).entries.isEmpty)
    }
}
