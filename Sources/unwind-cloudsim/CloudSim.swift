import ArgumentParser
import CloudSimulator
import Foundation
import Logging

/// `unwind-cloudsim`: the local Huawei Cloud simulator (SecMaster, BSS, ECS, VPCEP on one port).
@main
struct CloudSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unwind-cloudsim",
        abstract: "Local simulator of the Huawei Cloud APIs an Unwind teardown uses.",
        subcommands: [Serve.self, GenerateSeed.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the simulated cloud (the default command).")

    @Option(help: "Seed file (JSON) with settings, faults and accounts.", completion: .file(extensions: ["json"]))
    var seed: String

    @Option(help: "Port to listen on; 0 picks a free port (the first stdout line names it).")
    var port: Int = 8080

    @Option(help: "Address to bind. Loopback by default: the admin API has no signature check.")
    var host: String = "127.0.0.1"

    @Option(help: "Simulated seconds per real second.")
    var timeScale: Double = 1

    @Flag(help: "Start with the simulated clock frozen (advance it through /_sim/clock).")
    var freezeClock = false

    @Option(help: "Start the simulated clock at this ISO 8601 time instead of the real time.")
    var startTime: String?

    @Option(help: "Override the seed's random seed (fault probabilities, job durations, generated ids).")
    var randomSeed: UInt64?

    @Option(help: "Require this token in X-Sim-Admin-Token on /_sim/ requests.")
    var adminToken: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard timeScale > 0, timeScale <= SimulatedClock.maxScale else {
            throw ValidationError("--time-scale must be greater than 0 and at most \(Int(SimulatedClock.maxScale))")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        if let startTime, (try? Date(startTime, strategy: .iso8601)) == nil {
            throw ValidationError("--start-time must be an ISO 8601 time such as 2026-11-29T12:00:00Z")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "unwind-cloudsim")
        let clock = SimulatedClock(start: startTime.flatMap { try? Date($0, strategy: .iso8601) }, scale: timeScale, frozen: freezeClock)
        let simulator: Simulator
        do {
            simulator = try Simulator(seedFile: seed, clock: clock, logger: logger, randomSeed: randomSeed)
        } catch {
            FileHandle.standardError.write(Data("unwind-cloudsim: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let host = self.host
        let app = SimulatorServer.application(simulator: simulator, host: host, port: port, adminToken: adminToken, logger: logger) { bound in
            // Test harnesses read this first stdout line to learn the port.
            // Written straight to the file descriptor so it is not held in stdio's buffer when piped.
            FileHandle.standardOutput.write(Data("listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)\n".utf8))
        }
        do {
            try await app.runService()
        } catch {
            // A port in use, an address not on this machine: name it and the flags that fix it, not a raw NIO error.
            FileHandle.standardError.write(Data("unwind-cloudsim: cannot listen on \(host):\(port): \(error); check --host and --port (is another process listening there? --port 0 picks a free one)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct GenerateSeed: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate-seed", abstract: "Write a seed with a fleet of N accounts.")

    @Option(help: "Number of accounts.")
    var accounts: Int

    @Option(help: "Random seed; the same value gives the same file.")
    var randomSeed: UInt64 = 1

    @Option(help: "Output file (default: standard output).")
    var output: String?

    func validate() throws {
        guard accounts >= 1 else { throw ValidationError("--accounts must be at least 1") }
        guard accounts <= 100_000 else { throw ValidationError("--accounts must be at most 100000") }
        // The file records the seed as a JSON integer (signed 64-bit): a larger one would be written as another.
        guard randomSeed <= UInt64(Int64.max) else { throw ValidationError("--random-seed must be at most \(Int64.max)") }
    }

    func run() throws {
        let text = SeedGenerator(accounts: accounts, randomSeed: randomSeed).generate().prettySerialized() + "\n"
        if let output {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: output)) } catch {
                throw ValidationError("cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            print(text, terminator: "")
        }
    }
}
