import Foundation
import GridBusTestSupport
import GridConfiguration
import GridSecurity
import Synchronization
import Testing

@Suite struct APIKeysTests {
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
        let ring = APIKeyRing(clients: [APIClient(name: "a", keySHA256: hash, rate: 2, profile: "app")], clock: { time.withLock { $0 } })
        let burst = (0..<5).map { _ in ring.check(key: "k") }
        #expect(burst.prefix(4).allSatisfy { if case .allowed = $0 { true } else { false } })
        guard case .rateLimited(let wait) = burst[4] else {
            Issue.record("the fifth request in a burst was allowed")
            return
        }
        #expect(abs(wait - 0.5) < 1e-9)
        time.withLock { $0 = 0.5 }
        #expect(ring.check(key: "k") == .allowed(APIClient(name: "a", keySHA256: hash, rate: 2, profile: "app")))
        #expect(ring.check(key: "wrong") == .unknownKey && ring.check(key: nil) == .unknownKey)
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    @Test func hmacSHA256() {
        #expect(
            HMAC.sha256Hex(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        )
        #expect(
            HMAC.sha256Hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
        #expect(
            HMAC.sha256Hex(key: [UInt8](repeating: 0xaa, count: 131), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        )
    }

    @Test func keysFilesAreCheckedFieldByField() throws {
        let directory = URL(fileURLWithPath: TemporaryFiles.path("keys"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func load(_ text: String) throws(DefinitionError) -> [APIClient<[String]>] {
            let file = directory.appendingPathComponent("keys.yaml").path
            try? text.write(toFile: file, atomically: true, encoding: .utf8)
            return try APIKeysFile.load(file, profileFields: ["scopes"]) { (entry) throws(DefinitionError) in try entry.stringList("scopes") }
        }
        let hash = SHA256.hex(Array("k".utf8))
        #expect(
            try load("clients:\n  - {name: a, key-sha256: \(hash), scopes: [cases]}") == [
                APIClient(name: "a", keySHA256: hash, rate: 100, profile: ["cases"])
            ]
        )
        #expect(throws: DefinitionError.self) { try load("clients:\n  - {name: a, key-sha256: k}") }
        #expect(throws: DefinitionError.self) { try load("clients:\n  - {name: a, key-sha256: \(hash), channel: app}") }
    }
}
