import Foundation
import GridBusTestSupport
import GridConfiguration
import GridSchema
import GridSecurity
import Testing
import ZeroMQ

@Suite struct AccessPolicyTests {
    @Test(arguments: [
        ("*", "incident.reported/G-1", true),
        ("incident.*", "incident.closed/G-1", true),
        ("incident.*", "notification.sent/-", false),
        ("incident.reported", "incident.reported/G-1", true),
        ("incident.reported", "incident.reported/-", true),
        ("incident.reported", "incident.reportedx/G-1", false),
        ("incident.reported/G-01*", "incident.reported/G-0102", true),
        ("incident.reported/G-01*", "incident.reported/G-02", false),
        ("incident.reported/G-01", "incident.reported/G-01", true),
        ("incident.reported/G-01", "incident.reported/G-012", false),
    ])
    func publishPatterns(pattern: String, topic: String, admitted: Bool) throws {
        #expect(try TopicPattern(pattern).admits(topic: Array(topic.utf8)) == admitted)
    }

    @Test(arguments: [
        ("*", "", true),
        ("incident.*", "", false),
        ("incident.*", "incident.", true),
        ("incident.*", "incident", false),
        ("incident.reported", "incident.reported", true),
        ("incident.reported", "incident.reported/G-1", true),
        ("incident.reported", "incident.", false),
        ("grid.mode.changed/T-1*", "grid.mode.changed/T-1", true),
        ("grid.mode.changed/T-1*", "grid.mode.changed/", false),
    ])
    func subscriptionPatterns(pattern: String, prefix: String, covered: Bool) throws {
        #expect(try TopicPattern(pattern).covers(subscription: Array(prefix.utf8)) == covered)
    }

    @Test func badPatternsSayWhy() {
        for (text, reason) in [
            ("", "non-empty"), ("incident.*.x", "may only end"), ("incident.reportd", "not a registered event type"), ("a b", "without spaces"),
        ] {
            do {
                _ = try TopicPattern(text)
                Issue.record("accepted '\(text)'")
            } catch { #expect(error.reason.contains(reason), "\(error)") }
        }
    }

    @Test func everyIdentityMayReadTheHeartbeatButNotEverythingThroughIt() throws {
        let identity = Identity(name: "x", publicKey: try ZMQCurveKeyPair.generate().publicKey, publish: [], subscribe: [], definedIn: "test")
        #expect(identity.maySubscribe(prefix: Array("bus.heartbeat".utf8)))
        #expect(identity.maySubscribe(prefix: Array("bus.heartbeat/-".utf8)))
        #expect(!identity.maySubscribe(prefix: Array("bus.".utf8)))
        #expect(!identity.maySubscribe(prefix: []))
        #expect(!identity.mayPublish(topic: Array("bus.heartbeat/-".utf8)))
    }

    /// A chain carries the events of every prefix its key lists: it is open to whoever may read them all.
    @Test func aChainIsOpenToWhoeverMayReadEveryPrefixItLists() throws {
        let identity = Identity(
            name: "x",
            publicKey: try ZMQCurveKeyPair.generate().publicKey,
            publish: [],
            subscribe: [try TopicPattern("incident.*")],
            definedIn: "test"
        )
        #expect(identity.maySubscribe(prefix: BusProtocol.chainKey(prefixes: ["incident."])!))
        #expect(identity.maySubscribe(prefix: BusProtocol.chainKey(prefixes: ["incident.dispatched/", "incident.closed/G-1"])!))
        #expect(!identity.maySubscribe(prefix: BusProtocol.chainKey(prefixes: ["incident.", "grid.mode.changed/"])!))
        #expect(!identity.maySubscribe(prefix: BusProtocol.chainKey(prefixes: ["notification."])!))
        #expect(!identity.maySubscribe(prefix: Array("bus.chain/".utf8)))  // every chain: not a key
        #expect(!identity.maySubscribe(prefix: Array("bus.chain/incident.".utf8)))  // unfinished: would match longer keys
    }

    func accessFile(_ text: String) throws -> String {
        let directory = TemporaryFiles.path("access")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try CurveCertificate.write(try ZMQCurveKeyPair.generate(), name: "monitoring", directory: directory + "/keys")
        try text.write(toFile: directory + "/access.yaml", atomically: true, encoding: .utf8)
        return directory + "/access.yaml"
    }

    @Test func theAccessFileLoadsKeysRelativeToItself() throws {
        let key = try ZMQCurveKeyPair.generate().publicKey
        let file = try accessFile(
            """
            identities:
              - name: monitoring
                key-file: keys/monitoring.key
                subscribe: ["*"]
              - name: hotline
                public-key: "\(key.z85)"
                publish: [incident.reported]
            """
        )
        let policy = try AccessPolicy(identities: try AccessFile.load(file))
        #expect(policy.identity(forKey: key)?.name == "hotline")
        #expect(policy.identity(named: "hotline")?.mayPublish(topic: Array("incident.reported/G-1".utf8)) == true)
        #expect(policy.identity(named: "monitoring")?.mayPublish(topic: Array("incident.reported/G-1".utf8)) == false)
    }

    @Test(arguments: [
        ("identities:\n  - name: a\n    key-fil: keys/monitoring.key\n", "identities[0].key-fil", "did you mean 'key-file'"),
        ("identities:\n  - name: a\n", "identities[0].key-file", "is required"),
        ("identities:\n  - name: a\n    key-file: keys/none.key\n", "identities[0].key-file", "cannot read"),
        ("identities:\n  - name: a b\n    key-file: keys/monitoring.key\n", "identities[0].name", "letters, digits"),
        ("identities:\n  - name: a\n    public-key: short\n", "identities[0].public-key", "Z85"),
        (
            "identities:\n  - name: a\n    key-file: keys/monitoring.key\n    publish: [incident.reportd]\n", "identities[0].publish[0]",
            "not a registered"
        ),
        ("identities:\n  - name: a\n    key-file: keys/monitoring.key\n    publish: incident.reported\n", "identities[0].publish", "list"),
        ("identity: []\n", "identity", "did you mean 'identities'"),
        ("- 1\n", "", "top level"),
    ])
    func accessFileErrorsNameFileFieldAndReason(text: String, field: String, reason: String) throws {
        let file = try accessFile(text)
        do {
            _ = try AccessFile.load(file)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.file == file)
            #expect(error.field == field, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func oneKeyOrOneNameTwiceIsRefused() throws {
        let key = try ZMQCurveKeyPair.generate().publicKey
        let a = Identity(name: "a", publicKey: key, publish: [], subscribe: [], definedIn: "access.yaml")
        let b = Identity(name: "b", publicKey: key, publish: [], subscribe: [], definedIn: "plugins/b.yaml")
        #expect(throws: DefinitionError.self) { try AccessPolicy(identities: [a, b]) }
        let a2 = Identity(name: "a", publicKey: try ZMQCurveKeyPair.generate().publicKey, publish: [], subscribe: [], definedIn: "plugins/a.yaml")
        do {
            _ = try AccessPolicy(identities: [a, a2])
            Issue.record("accepted a name twice")
        } catch { #expect(error.description.contains("also defined in access.yaml")) }
    }
}
