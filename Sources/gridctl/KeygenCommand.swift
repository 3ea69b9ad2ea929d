import ArgumentParser
import Foundation
import GridConfiguration
import GridSecurity
import ZeroMQ

/// `gridctl keygen NAME`: a CURVE key pair in ZeroMQ's certificate format.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a CURVE key pair: NAME.key (public, share it) and NAME.key_secret (mode 0600, keep it).",
        discussion: """
            The files use ZeroMQ's certificate format, readable by pyzmq's zmq.auth.load_certificate and
            by czmq. List the public key in gridbusd's access file (or reference the secret file from a
            plugin manifest), then reload gridbusd with SIGHUP. See docs/security.md.
            """
    )

    @Argument(help: "The identity's name (letters, digits, '-', '_', '.'); also the file name.")
    var name: String

    @Option(help: "Directory to write the two files into (created if missing).")
    var dir: String = "."

    @Flag(help: "Replace an existing key pair of that name.")
    var force = false

    func validate() throws {
        guard !name.isEmpty, name.utf8.count <= 64,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }), !name.hasPrefix(".")
        else {
            throw ValidationError("NAME '\(name)' must be up to 64 letters, digits, '-', '_' or '.', not starting with '.'")
        }
    }

    func run() throws {
        do {
            let paths = try CurveCertificate.write(try ZMQCurveKeyPair.generate(), name: name, directory: dir, overwrite: force)
            FileHandleOutput.standardOutput("public key  \(paths.publicPath)\nsecret key  \(paths.secretPath)  (mode 0600)\n")
        } catch let error as CurveCertificate.Error {
            throw RuntimeFailure(error.description)
        }
    }
}
