import Foundation

/// The cloud simulator child and its admin API (`/_sim/…`), reached with curl so that this program needs no
/// HTTP stack of its own.
final class SimulatorControl {
    let child: Child
    let url: String

    init(executable: String, seed: String, timeScale: Double, logPath: String, environment: [String: String]) throws {
        child = try Child(
            name: "simulator", executable: executable,
            arguments: ["--seed", seed, "--port", "0", "--time-scale", "\(timeScale)", "--log-level", "warning"],
            environment: environment, logPath: logPath)
        let deadline = Date().addingTimeInterval(30)
        var found: String?
        while found == nil {
            if let line = child.log.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                found = String(line.dropFirst("listening on ".count))
            } else if !child.isRunning || Date() > deadline {
                throw ChaosError("the simulator did not start: \(child.log)")
            } else {
                usleep(50_000)
            }
        }
        url = found!
    }

    /// Calls the admin API and decodes the JSON answer.
    @discardableResult
    func admin(_ method: String, _ path: String, body: Any? = nil) throws -> Any {
        var arguments = ["-sS", "--fail-with-body", "-X", method, url + path, "-H", "Content-Type: application/json"]
        if let body {
            arguments += ["--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)]
        }
        let (status, output) = try runToCompletion("/usr/bin/curl", arguments, environment: ProcessInfo.processInfo.environment)
        guard status == 0 else { throw ChaosError("simulator admin \(method) \(path) failed: \(output)") }
        return try JSONSerialization.jsonObject(with: Data(output.utf8), options: [.fragmentsAllowed])
    }

    /// Freezes the simulator process (no answers at all, connections stay open) for `seconds`.
    func pause(seconds: Double) {
        child.signal(SIGSTOP)
        usleep(UInt32(seconds * 1_000_000))
        child.signal(SIGCONT)
    }

    func stop() {
        child.signal(SIGCONT)
        child.signal(SIGTERM)
        child.wait(timeout: 10)
    }
}
