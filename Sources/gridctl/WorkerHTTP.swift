import ArgumentParser
import Foundation
import GridConfiguration
import GridJSON

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A request to a worker's HTTP API (grid-dispatcher, grid-notifier): the JSON answer printed on
/// success, the API's errors as the failure (exit 1) otherwise.
struct WorkerHTTP {
    let program: String
    let url: String
    let apiKey: String?
    let timeout: Double
    /// The option that sets `url`, for the error message.
    let flag: String

    func send(_ method: String, _ path: String, body: JSONValue? = nil, idempotencyKey: String? = nil) async throws {
        guard let target = URL(string: url + path) else { throw ValidationError("\(flag) '\(url)' is not a URL") }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(try body.jsonBytes())
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let idempotencyKey { request.setValue(idempotencyKey, forHTTPHeaderField: "Idempotency-Key") }
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw RuntimeFailure("no answer from \(program) at \(url): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: data, as: UTF8.self)
        guard (200..<300).contains(status) else {
            var message = "\(program) answered \(status)"
            if let answer = try? JSONValue(parsing: Array(data)), case .object = answer {
                let errors = (answer["errors"]?.arrayValue ?? []).map { "\($0["field"]?.stringValue ?? ""): \($0["reason"]?.stringValue ?? "")" }
                message += ": " + errors.joined(separator: "; ")
            } else if !text.isEmpty {
                message += ": \(text)"
            }
            throw RuntimeFailure(message)
        }
        FileHandleOutput.standardOutput(text + "\n")
    }
}
