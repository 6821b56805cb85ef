import ArgumentParser
import Foundation
import LocalPostgres
import Postgres
import UnwindCore
import UnwindStore
import UnwindEngine
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Musl)
import Musl
private let systemWrite = Musl.write
#else
import Darwin
private let systemWrite = Darwin.write
#endif

/// The exit codes `unwind` uses; documented in the README and `unwind --help`.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    /// The workflow ended failed, compensated, compensation_failed or cancelled (with --wait).
    case workflowDidNotSucceed = 2
    case notFound = 3
    /// Refused: e.g. a missing acknowledgement, an operator action that does not apply, a held concurrency key.
    case refused = 4
    case databaseUnreachable = 5
    case usage = 64

    var code: ExitCode { ExitCode(rawValue) }
}

/// Prints an error as one or two readable lines on stderr (never a stack dump) and picks the exit code.
enum ErrorReporter {
    static func report(_ error: any Error) -> ExitCode {
        let (message, status) = describe(error)
        // Messages quote user input (IDs, values): never let it reach the terminal as escape sequences.
        Terminal.standardError.write("error: \(TextTable.neutralise(message, keepingNewlines: true))\n")
        return status.code
    }

    static func describe(_ error: any Error) -> (String, ExitStatus) {
        switch error {
        case let error as PostgresError where error.sqlState == "42501":
            // A role without its grants is a misconfiguration, not a failure of the command.
            return ("\(error.description)\nhint: the database role lacks privileges on Unwind's tables; `unwind doctor` names them. Run as unwind_worker (db/roles.sql), or grant them: migration 0002 grants to roles that existed when it ran", .databaseUnreachable)
        case let error as PostgresError where error.sqlState == "25006":
            return ("\(error.description)\nhint: \(readOnlyHint(role: nil, standby: false))", .databaseUnreachable)
        case let error as PostgresError:
            let status: ExitStatus = error.isConnectionLost || error.code == .invalidConfiguration
                ? .databaseUnreachable : .failure
            return (error.description, status)
        case let error as LocalPostgresError:
            return (error.description, .databaseUnreachable)
        case let error as MigrationError:
            return (error.description, .databaseUnreachable)
        case let error as CLIError:
            return (error.description, error.status)
        case let error as StoreError:
            switch error {
            case .workflowNotFound, .stepNotFound: return (error.description, .notFound)
            case .malformedWorkflowID, .ambiguousWorkflowID: return (error.description, .usage)
            case .refused, .concurrencyKeyHeld, .idempotencyKeyReused: return (error.description, .refused)
            case .corruptRow: return (error.description, .failure)
            }
        case let error as InputValidationError:
            return (error.description, .usage)
        case let error as WorkerIDInUse:
            return (error.description, .usage)
        case let error as DefinitionError:
            return (error.description, .usage)
        default:
            return (String(describing: error), .failure)
        }
    }
}

extension ErrorReporter {
    /// What to do about a session that cannot write (SQLSTATE 25006, or what `doctor` finds).
    static func readOnlyHint(role: String?, standby: Bool) -> String {
        let which = standby ? "the server is a standby (in recovery)" : "the session is read-only (default_transaction_read_only is on for the role or database, or the server is a standby)"
        return "\(which): Unwind writes on every command. Point the URL at the primary (with several hosts, add target_session_attrs=read-write), or turn it off: ALTER ROLE \(role ?? "<role>") SET default_transaction_read_only = off"
    }
}

/// An error raised by the CLI itself, with the message an operator should read and the exit status.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var status: ExitStatus = .failure
}

/// Runs a command body, turning any error into a readable message and an exit code.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw ErrorReporter.report(error)
    }
}

enum Terminal {
    struct Stream {
        let handle: FileHandle

        /// Writes all of `text`. `FileHandle.write(_:)` traps when the reader has gone (`unwind plan --fleet … |
        /// head -1`): the networking libraries ignore SIGPIPE, so the write fails with EPIPE instead. The process
        /// then ends the way a command in a pipeline is expected to, by SIGPIPE, without a stack dump.
        func write(_ text: String) {
            let descriptor = handle.fileDescriptor
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
                if written >= 0 {
                    bytes = bytes.dropFirst(written)
                } else if errno == EINTR {
                    continue
                } else if errno == EPIPE {
                    signal(SIGPIPE, SIG_DFL)
                    kill(getpid(), SIGPIPE)
                    _exit(128 + SIGPIPE)
                } else {
                    return  // nothing sensible is left to tell on a stream that fails
                }
            }
        }
    }
    static let standardError = Stream(handle: .standardError)
    static let standardOutput = Stream(handle: .standardOutput)
}

