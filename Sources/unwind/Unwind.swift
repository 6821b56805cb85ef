import ArgumentParser
import Foundation

@main
struct Unwind: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unwind",
        abstract: "Durable saga orchestrator for tearing down cloud security subscriptions.",
        discussion: """
            State lives in PostgreSQL: --database-url or UNWIND_DATABASE_URL. With neither, unwind creates and \
            starts a private local PostgreSQL under your state directory (unwind db status shows where).

            Exit codes: 0 success, 1 failure, 2 workflow did not succeed (with --wait), 3 not found, \
            4 refused, 5 database unreachable, 64 usage error.
            """,
        version: UnwindVersion.current,
        subcommands: [
            Plan.self, Submit.self, Status.self, ListCommand.self, History.self, Resume.self, Cancel.self, Skip.self, Graph.self,
            WorkerCommand.self, Serve.self, Workers.self, Workflows.self, Prune.self, Migrate.self, Doctor.self, DB.self, Bench.self,
        ]
    )
}

extension Unwind {
    /// Like ArgumentParser's default, but a usage error is printed as one or two lines (the problem and where
    /// to find help), not the whole usage text.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is CleanExit {
                Self.exit(withError: error)  // --help, --version, completion scripts
            }
            var message = Self.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            if message.hasPrefix("Error: ") { message = String(message.dropFirst("Error: ".count)) }
            // ArgumentParser lists allowed values one per line ("    - running"); keep it on one line.
            let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let choices = lines.filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
            if !choices.isEmpty {
                message = lines.filter { !$0.hasPrefix("- ") }.joined(separator: " ") + " " + choices.joined(separator: ", ")
            }
            let commandPath = Self.commandPath(CommandLine.arguments.dropFirst())
            message = TextTable.neutralise(message, keepingNewlines: true)
            Terminal.standardError.write("error: \(message)\nsee: unwind \(commandPath.isEmpty ? "" : commandPath + " ")--help\n")
            Foundation.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

extension Unwind {
    /// The subcommand names at the start of `arguments` (e.g. `workflows validate`), for the help hint.
    static func commandPath(_ arguments: ArraySlice<String>) -> String {
        var path: [String] = []
        var commands: [any ParsableCommand.Type] = configuration.subcommands
        for argument in arguments {
            guard let match = commands.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            commands = match.configuration.subcommands
        }
        return path.joined(separator: " ")
    }
}

enum UnwindVersion {
    static let current = "0.1.0"
}
