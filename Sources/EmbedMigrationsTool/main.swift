import Foundation

// Usage: EmbedMigrationsTool OUTPUT.swift FILE.sql...
// Writes a Swift file declaring `EmbeddedMigrations.files`, the raw bytes of each migration, in name order.
// Base64 (not a string literal) so that checksums are taken over exactly the bytes in db/migrations.
let arguments = CommandLine.arguments.dropFirst()
guard let outputPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedMigrationsTool OUTPUT FILE...\n".utf8))
    exit(2)
}
var source = "// Generated at build time from db/migrations by the EmbedMigrations plugin. Do not edit.\n"
source += "enum EmbeddedMigrations {\n    static let files: [(name: String, base64: String)] = [\n"
for path in arguments.dropFirst().sorted(by: { ($0 as NSString).lastPathComponent < ($1 as NSString).lastPathComponent }) {
    let name = (path as NSString).lastPathComponent
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("EmbedMigrationsTool: cannot read \(path)\n".utf8))
        exit(1)
    }
    source += "        (name: \"\(name)\", base64: \"\(data.base64EncodedString())\"),\n"
}
source += "    ]\n}\n"
do {
    try Data(source.utf8).write(to: URL(fileURLWithPath: outputPath), options: .atomic)
} catch {
    FileHandle.standardError.write(Data("EmbedMigrationsTool: cannot write \(outputPath): \(error)\n".utf8))
    exit(1)
}
