import Foundation
import GridDistrict
import GridHTTP
import GridSchema
import HTTPTypes
import Hummingbird
import NIOCore

/// The dashboard's files (served as they are: no build step, nothing from a CDN) and the district's
/// grids as GeoJSON for its map.
struct DashboardAssets: Sendable {
    let files: [String: (data: Data, type: String)]
    let gridsGeoJSON: Data

    static let types = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "svg": "image/svg+xml",
    ]

    init(districtDirectory: String) throws {
        var files: [String: (Data, String)] = [:]
        if let directory = Bundle.module.url(forResource: "Dashboard", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        {
            for name in names {
                let type = Self.types[(name as NSString).pathExtension] ?? "application/octet-stream"
                files[name] = (try Data(contentsOf: directory.appendingPathComponent(name)), type)
            }
        }
        self.files = files
        gridsGeoJSON = try Data(contentsOf: URL(fileURLWithPath: districtDirectory).appendingPathComponent(District.files.grids))
    }

    func response(_ name: String) -> Response {
        guard let file = files[name] else { return HTTPSupport.errors(.notFound, [FieldError("path", "no asset '\(name)'")]) }
        return Response(
            status: .ok,
            headers: [.contentType: file.type, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: file.data))
        )
    }
}
