import ArgumentParser
import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnwindEngine
import UnwindServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API (/api/v1) and the web dashboard (/), with /healthz and /readyz.",
        discussion: """
            Listens on 127.0.0.1:8080 unless --host/--port (or UNWIND_SERVE_HOST/UNWIND_SERVE_PORT) say otherwise. \
            Mutating calls (submit, resume, cancel, skip) need the bearer token read from UNWIND_API_TOKEN_FILE (a \
            file only its owner can read) or UNWIND_API_TOKEN; without one they answer 403. Reads need the token \
            too unless --public-reads (or UNWIND_API_PUBLIC_READS=true). SIGTERM/SIGINT stop accepting connections \
            and let requests in flight finish within --grace. The API is described in docs/openapi.yaml.

            Examples:
              UNWIND_API_TOKEN_FILE=/etc/unwind/api-token unwind serve
              unwind serve --host 0.0.0.0 --port 9000 --public-reads
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var workflows: WorkflowOptions

    @Option(help: "Address to listen on (default: $UNWIND_SERVE_HOST, else 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (default: $UNWIND_SERVE_PORT, else 8080).")
    var port: Int?

    @Option(help: "On SIGTERM/SIGINT, how long requests in flight may take to finish.")
    var grace: String = "10s"

    @Flag(name: .customLong("public-reads"), help: "Let reads (lists, workflow pages) through without the token (default: $UNWIND_API_PUBLIC_READS).")
    var publicReads = false

    @Option(help: "Database connections the server may open.")
    var connections: Int = 8

    func validate() throws {
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be between 0 and 65535 (got \(port))") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be between 1 and 256") }
    }

    func run() throws {
        try runReportingErrors {
            let environment = ProcessInfo.processInfo.environment
            var database = self.database
            if database.logLevel == nil && environment["UNWIND_LOG_LEVEL"] == nil { database.logLevel = "info" }
            let gracePeriod = try parseDuration(grace, flag: "--grace")
            let host = host ?? environment["UNWIND_SERVE_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
            try Self.checkResolvable(host)
            let port = try port ?? Self.environmentPort(environment["UNWIND_SERVE_PORT"]) ?? 8080
            let publicReads = try publicReads || Self.environmentFlag(environment["UNWIND_API_PUBLIC_READS"], name: "UNWIND_API_PUBLIC_READS")
            let token = try Self.apiToken(environment)
            // A missing directory (a volume not mounted) would serve a healthy-looking API that knows no workflow.
            try workflows.checkDirectory()
            // The API's submission gate runs plans against the cloud: its settings (timeouts, CA file, proxy) are
            // refused here, not ignored at the first plan.
            try CloudSettings.check()
            // Like a worker, a server started while the database is down (a restart, a failover) waits for it.
            let services = try Services(database: database, connections: connections, label: "unwind.serve", waitForDatabase: true)
            let logger = services.logger
            // /metrics: the queue, workflow and pool gauges, sampled like a worker's (README.md).
            let exporter = PrometheusExporter()
            exporter.bootstrapMetricsSystem()
            let probe = try DatabaseProbe(configuration: services.pool.configuration, logger: logger)
            if token == nil {
                logger.warning("no API token configured (UNWIND_API_TOKEN_FILE or UNWIND_API_TOKEN): submit, resume, cancel and skip answer 403")
            }
            let openFiles = OpenFilesLimit.raise()
            let server = UnwindServer(
                configuration: ServerConfiguration(
                    host: host, port: port, apiToken: token, publicReads: publicReads,
                    workflowsDirectory: workflows.directory, registry: BuiltInActions.registry,
                    metrics: exporter.render, maximumConnections: OpenFilesLimit.maximumConnections(openFiles: openFiles)),
                store: services.store, logger: logger)
            let application = server.application { bound in
                Terminal.standardOutput.write("listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)\n")
                logger.notice("serving the API and dashboard", metadata: [
                    "host": "\(host)", "port": "\(bound)", "public_reads": "\(publicReads)", "token": "\(token == nil ? "none" : "configured")",
                ])
            }
            let sampler = MetricsSamplerService(
                probe: probe, pool: services.pool, metrics: exporter.metrics, interval: WorkerRunner.sampleInterval)
            var configuration = ServiceGroupConfiguration(
                services: [
                    .init(service: sampler, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
                    .init(service: application),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            configuration.maximumGracefulShutdownDuration = gracePeriod
            let group = ServiceGroup(configuration: configuration)
            do {
                try runAsyncBlocking { try await group.run() }
            } catch {
                throw CLIError(description: "cannot serve on \(host):\(port): \(listenFailure(error)); check --host and --port (is another process listening there? --port 0 picks a free one)", status: .failure)
            }
            logger.notice("stopped")
        }
    }

    /// An address to listen on must be an IP address or a name this machine resolves; found before anything starts.
    static func checkResolvable(_ host: String) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        if let result { freeaddrinfo(result) }
        guard status == 0 else {
            throw CLIError(
                description: "--host '\(host)': not an address this machine can listen on (\(String(cString: gai_strerror(status)))); use e.g. 127.0.0.1, 0.0.0.0 or ::",
                status: .usage)
        }
    }

    /// The token: from UNWIND_API_TOKEN_FILE (owner-only file, like the database password file), else UNWIND_API_TOKEN.
    static func apiToken(_ environment: [String: String]) throws -> String? {
        if let path = environment["UNWIND_API_TOKEN_FILE"], !path.isEmpty {
            let token = try SecretFile.read(path, purpose: "UNWIND_API_TOKEN_FILE").trimmingCharacters(in: .whitespacesAndNewlines)
            // Several lines or words can never match one Authorization header: every call would answer 401.
            guard !token.contains(where: \.isWhitespace) else {
                throw CLIError(description: "UNWIND_API_TOKEN_FILE: '\(path)' holds more than one line or word; write the token alone on one line (e.g. openssl rand -hex 32 > \(path))", status: .usage)
            }
            guard token.count >= 16 else {
                throw CLIError(description: "UNWIND_API_TOKEN_FILE: the token in '\(path)' is shorter than 16 characters; generate one with: openssl rand -hex 32", status: .usage)
            }
            return token
        }
        if let given = environment["UNWIND_API_TOKEN"], !given.isEmpty {
            let token = given.trimmingCharacters(in: .whitespacesAndNewlines)
            // Blanks only (a template left unfilled) would mean "no token": every call unauthenticated.
            guard !token.isEmpty else {
                throw CLIError(description: "UNWIND_API_TOKEN holds only blanks; set a token (openssl rand -hex 32) or unset it", status: .usage)
            }
            guard token.count >= 16 else {
                throw CLIError(description: "UNWIND_API_TOKEN is shorter than 16 characters; generate one with: openssl rand -hex 32", status: .usage)
            }
            return token
        }
        return nil
    }

    static func environmentPort(_ text: String?) throws -> Int? {
        guard let text, !text.isEmpty else { return nil }
        guard let port = Int(text), (0...65_535).contains(port) else {
            throw CLIError(description: "UNWIND_SERVE_PORT='\(text)' is not a port number (0-65535)", status: .usage)
        }
        return port
    }

    static func environmentFlag(_ text: String?, name: String) throws -> Bool {
        switch text?.lowercased() {
        case nil, "", "false", "0", "no", "off": return false
        case "true", "1", "yes", "on": return true
        case let other?: throw CLIError(description: "\(name)='\(other)' is not true or false", status: .usage)
        }
    }
}
