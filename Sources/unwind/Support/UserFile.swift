import Foundation

/// Why a file a user named cannot be read, in words that point at the fix.
enum UserFile {
    /// `nil` when `path` is a readable regular file (or something else readable, such as a pipe).
    static func problem(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return "'\(path)' does not exist (relative paths are from \(FileManager.default.currentDirectoryPath))"
        }
        if isDirectory.boolValue { return "'\(path)' is a directory; give the path of a file" }
        if !FileManager.default.isReadableFile(atPath: path) { return "'\(path)' cannot be read (permission denied)" }
        return nil
    }
}
