import ArgumentParser
import Foundation
import LocalPostgres
import Logging
import Postgres

/// A chaos run: a fleet of full teardowns through several `unwind worker` processes against the cloud
/// simulator with faults on, while workers are SIGKILLed, PostgreSQL restarts and the simulator freezes; then
/// the invariants, printed as figures. Exit status 0 only if every invariant holds.
@main
struct ChaosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unwind-chaos",
        abstract: "Try hard to break Unwind, then prove nothing was lost, repeated or left half-done.",
        discussion: """
            Starts its own throwaway PostgreSQL, the cloud simulator with fault injection and several workers, \
            submits one full teardown per simulated account, and meanwhile kills workers, restarts PostgreSQL \
            and pauses the simulator. Checks the simulator's ledger and state and the engine's history.

            Short form (in the test command):  unwind-chaos
            Long form (by hand):               unwind-chaos --accounts 2000 --workers 4 --timeout 2400
            """)

    @Option(help: "Accounts in the fleet (one teardown each; every sixth has an unpaid order and must compensate).")
    var accounts = 60
    @Option(help: "Worker processes running at once.") var workers = 3
    @Option(help: "Concurrency of each worker.") var concurrency = 8
    @Option(help: "Seconds between SIGKILLs of a random worker (a new one starts at once).") var killEvery = 3.0
    @Option(help: "Worker lease in seconds: how soon a killed worker's steps run elsewhere.") var lease = 4
    @Option(help: "PostgreSQL restarts (the first 5 s in, then every --restart-every seconds).") var pgRestarts = 1
    @Option(help: "Seconds between PostgreSQL restarts.") var restartEvery = 60.0
    @Option(help: "Seconds PostgreSQL stays down on each restart.") var pgDown = 3.0
    @Option(help: "Seconds the simulator is frozen (SIGSTOP), once, 10 s in.") var simPause = 4.0
    @Option(help: "Simulated seconds per real second (shortens order processing and ECS jobs).") var timeScale = 4.0
    @Option(help: "Multiplies every fault probability (0 turns faults off).") var faultRate = 1.0
    @Option(help: "Seed for the fleet, the fault draws and the victims.") var randomSeed: UInt64 = 1
    @Option(help: "Give up (and fail) after this many seconds.") var timeout = 240.0
    @Option(help: "Write the figures as JSON here.") var json: String?
    @Option(help: "Where the unwind and unwind-cloudsim binaries are (default: next to this program).") var binDir: String?
    @Flag(help: "Keep the scratch directory (logs, seed, database) even when the run passes.") var keep = false

    func validate() throws {
        guard accounts >= 1, workers >= 1, concurrency >= 1 else { throw ValidationError("--accounts, --workers and --concurrency must be at least 1") }
        guard killEvery > 0, lease >= 2, timeout > 0 else { throw ValidationError("--kill-every and --timeout must be positive and --lease at least 2") }
    }

    func run() throws {
        do {
            let report = try ChaosRun(options: self).run()
            print(report.text)
            if let json { try report.json.write(toFile: json, atomically: true, encoding: .utf8) }
            if !report.passed { throw ExitCode(1) }
        } catch let error as ChaosError {
            FileHandle.standardError.write(Data("unwind-chaos: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}
