import GridSecurity
import Logging
import Metrics
import Testing
import ZeroMQ

@Suite struct ZAPHandlerTests {
    func request(domain: String = "gridbus", mechanism: String = "CURVE", key: [UInt8]) -> [[UInt8]] {
        [Array("1.0".utf8), Array("7".utf8), Array(domain.utf8), Array("10.0.0.9".utf8), [], Array(mechanism.utf8), key]
    }

    @Test func admitsListedKeysByNameAndRefusesTheRest() throws {
        let listed = try ZMQCurveKeyPair.generate().publicKey
        let policy = try AccessPolicy(identities: [Identity(name: "intake", publicKey: listed, publish: [], subscribe: [], definedIn: "t")])
        let access = AccessControl(mode: .curve, policy: policy)
        var handler = ZAPHandler(
            access: access,
            metrics: SecurityMetrics(factory: NOOPMetricsHandler.instance, mode: .curve),
            logger: Logger(label: "t")
        )

        let ok = handler.answer(request(key: listed.bytes))
        #expect(ok == [Array("1.0".utf8), Array("7".utf8), Array("200".utf8), Array("OK".utf8), Array("intake".utf8), []])
        let stranger = try ZMQCurveKeyPair.generate().publicKey
        #expect(handler.answer(request(key: stranger.bytes))[2] == Array("400".utf8))
        #expect(handler.answer(request(domain: "other", key: listed.bytes))[2] == Array("400".utf8))
        #expect(handler.answer(request(mechanism: "NULL", key: listed.bytes))[2] == Array("400".utf8))
        #expect(handler.answer([Array("2.0".utf8), [1]])[2] == Array("400".utf8))
        // A reload applies to the next handshake.
        access.replace(.empty)
        #expect(handler.answer(request(key: listed.bytes))[2] == Array("400".utf8))
    }
}

@Suite struct LogRateLimiterTests {
    @Test func aBurstThenSilenceThenASummary() {
        var limiter = LogRateLimiter(burst: 3, interval: 60)
        let first = (0..<10).map { limiter.decide(key: "10.0.0.9", now: Double($0)) }
        #expect(first.filter { $0 != .suppress }.count == 3)
        #expect(limiter.decide(key: "10.0.0.8", now: 10) == .log(suppressedBefore: 0))  // other peers are not silenced
        #expect(limiter.decide(key: "10.0.0.9", now: 61) == .log(suppressedBefore: 7))
        #expect(limiter.decide(key: "10.0.0.9", now: 62) == .log(suppressedBefore: 0))
    }

    @Test func manyPeersDoNotGrowItWithoutBound() {
        var limiter = LogRateLimiter(burst: 1, interval: 60, maxKeys: 100)
        for peer in 0..<10_000 { _ = limiter.decide(key: "peer-\(peer)", now: 1) }
        #expect(limiter.decide(key: "peer-9999", now: 2) == .suppress)
    }
}
