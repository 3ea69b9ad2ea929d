import Foundation

/// Writes to stdout/stderr without touching the C `stdout` global, which Swift 6 calls
/// not concurrency-safe (docs/architecture.md, "Swift and libzmq").
public enum FileHandleOutput {
    public static func standardOutput(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    public static func standardError(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
