import Foundation
import GridBusTestSupport
import GridSecurity
import Testing
import ZeroMQ

@Suite struct CurveCertificateTests {
    let directory = TemporaryFiles.path("keys")

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    @Test func aWrittenPairReadsBackWithTheRightModes() throws {
        let pair = try ZMQCurveKeyPair.generate()
        let paths = try CurveCertificate.write(pair, name: "intake", directory: directory)
        #expect(try mode(paths.publicPath) == 0o644)
        #expect(try mode(paths.secretPath) == 0o600)
        let loaded = try CurveCertificate.loadKeyPair(secretPath: paths.secretPath)
        #expect(loaded.publicKey == pair.publicKey && loaded.secretKey == pair.secretKey)
        #expect(try CurveCertificate.loadPublicKey(path: paths.publicPath) == pair.publicKey)
        // The public file holds no secret.
        #expect(!(try String(contentsOfFile: paths.publicPath, encoding: .utf8)).contains(pair.secretKey.z85))
        #expect(throws: CurveCertificate.Error.self) { try CurveCertificate.write(pair, name: "intake", directory: directory) }
    }

    @Test func aSecretFileOthersCanReadIsRefusedWithoutShowingTheKey() throws {
        let pair = try ZMQCurveKeyPair.generate()
        let paths = try CurveCertificate.write(pair, name: "loose", directory: directory)
        chmod(paths.secretPath, 0o640)
        do {
            _ = try CurveCertificate.loadKeyPair(secretPath: paths.secretPath)
            Issue.record("accepted a group-readable secret key")
        } catch {
            #expect(error.description.contains("mode 640") && error.description.contains("chmod 600"))
            #expect(!error.description.contains(pair.secretKey.z85))
        }
        #expect(throws: CurveCertificate.Error.self) { try CurveCertificate.loadKeyPair(secretPath: paths.publicPath) }
    }

    /// The layout pyzmq's `zmq.auth.create_certificates` and czmq write (the interop suite reads ours with pyzmq).
    @Test func readsACertificateWrittenByPyzmq() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/server.key"
        try """
        #   ****  Generated on 2026-11-27 12:00:00.000000 by pyzmq  ****
        #   ZeroMQ CURVE Public Certificate
        #   Exchange securely, or use a secure mechanism to verify the contents
        #   of this file after exchange. Store public certificates in your home
        #   directory, in the .curve subdirectory.

        metadata
        curve
            public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"

        """.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try CurveCertificate.loadPublicKey(path: file).z85 == "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
    }
}
