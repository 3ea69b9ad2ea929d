import Foundation
import GridSchema
import Synchronization
import Testing

@testable import GridIntake

@Suite struct IntakePartsTests {
    /// FIPS 180-4 test vectors.
    @Test func sha256() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The rate limit with a clock the test moves: a burst of twice the rate, then the rate.
    @Test func aTokenBucketPerClient() {
        let time = Mutex(0.0)
        let hash = SHA256.hex(Array("k".utf8))
        let ring = APIKeyRing(clients: [APIClient(name: "a", keySHA256: hash, rate: 2, channel: .app)], clock: { time.withLock { $0 } })
        let burst = (0..<5).map { _ in ring.check(key: "k") }
        #expect(burst.prefix(4).allSatisfy { if case .allowed = $0 { true } else { false } })
        guard case .rateLimited(let wait) = burst[4] else {
            Issue.record("the fifth request in a burst was allowed")
            return
        }
        #expect(abs(wait - 0.5) < 1e-9)
        time.withLock { $0 = 0.5 }
        #expect(ring.check(key: "k") == .allowed(APIClient(name: "a", keySHA256: hash, rate: 2, channel: .app)))
        #expect(ring.check(key: "wrong") == .unknownKey && ring.check(key: nil) == .unknownKey)
    }

    @Test func open311DocumentsEscapeWhatTheyCarry() {
        let document = Open311Document(root: "errors", element: "error", records: [[("description", .text("a <b> & \"c\" \u{1}")), ("code", .number(400))]])
        #expect(document.render(.xml).hasSuffix("<errors><error><description>a &lt;b&gt; &amp; &quot;c&quot; </description><code>400</code></error></errors>"))
        #expect(document.render(.json) == #"[{"description":"a <b> & \"c\" \u0001","code":400}]"#)
    }

    @Test func incidentIDsAreShortAndDistinct() {
        let ids = (0..<10_000).map { _ in Intake.newIncidentID() }
        #expect(Set(ids).count == ids.count && ids.allSatisfy { $0.count == 16 && $0.hasPrefix("inc-") })
    }
}
