import Foundation
import UnwindTesting

extension WorkerProcess {
    /// The port the worker's metrics listener bound (started with `--metrics-port 0`), read from its log.
    func metricsPort(timeout: TimeInterval = 60) async throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        let pattern = try NSRegularExpression(pattern: #"serving /metrics, /healthz and /readyz on http://[^:\s"]+:([0-9]+)"#)
        while Date() < deadline {
            let log = self.log
            if let match = pattern.firstMatch(in: log, range: NSRange(log.startIndex..., in: log)),
               let range = Range(match.range(at: 1), in: log), let port = Int(log[range]) {
                return port
            }
            if kill(pid, 0) != 0 { throw TestFailure(description: "the worker exited before serving metrics; log: \(log)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure(description: "the worker did not report its metrics port within \(timeout)s; log: \(log)")
    }

    /// Scrapes /metrics and parses it.
    func scrape(port: Int) async throws -> [PrometheusSample] {
        let reply = try await HTTPProbe.fetch(port: port, path: "/metrics")
        guard reply.status == 200 else { throw TestFailure(description: "/metrics answered \(reply.status): \(reply.body)") }
        return try PrometheusText.parse(reply.body)
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(_ what: String, timeout: TimeInterval = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try await !condition() {
        if Date() > deadline { throw TestFailure(description: "timed out after \(timeout)s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

extension HTTPProbe {
    /// ``get(port:path:timeoutSeconds:)`` on a Dispatch thread: its socket calls block.
    static func fetch(port: Int, path: String, timeoutSeconds: Int = 10) async throws -> Reply {
        try await offThePool { try get(port: port, path: path, timeoutSeconds: timeoutSeconds) }
    }
}
