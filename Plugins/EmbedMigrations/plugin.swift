import Foundation
import PackagePlugin

/// Embeds the package's `db/migrations/*.sql` files into the target as Swift string data, so the `unwind`
/// binary carries its schema with it. The SQL files stay the single source of truth.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let migrationsDirectory = context.package.directoryURL
            .appending(path: "db")
            .appending(path: "migrations")
        let files = (try? FileManager.default.contentsOfDirectory(
            at: migrationsDirectory, includingPropertiesForKeys: nil))?
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent } ?? []
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) SQL migrations from db/migrations",
                executable: try context.tool(named: "EmbedMigrationsTool").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            ),
        ]
    }
}
