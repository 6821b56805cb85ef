import UnwindEngine

/// How `unwind serve` runs: where it listens, who may call it, and what it can submit.
public struct ServerConfiguration: Sendable {
    /// Loopback unless the operator says otherwise: the API can cancel teardowns.
    public var host: String
    /// 0 picks a free port (tests); the bound port is reported through `onRunning`.
    public var port: Int
    /// The bearer token of mutating calls (and of reads unless ``publicReads``). Nil: mutating calls answer 403.
    public var apiToken: String?
    /// Reads (lists, workflow pages, counts) need no token.
    public var publicReads: Bool
    /// Where workflow definitions are read from for submissions (re-read on each one, like the CLI).
    public var workflowsDirectory: String
    /// The actions this binary knows: definitions naming others are invalid, and plans run from here.
    public var registry: ActionRegistry
    /// Renders the Prometheus text for `GET /metrics`; the route exists only when this is set.
    public var metrics: (@Sendable () async -> String)?
    /// The largest request body accepted.
    public var maximumBodyBytes: Int
    /// Connections held at once; more wait in the listen backlog (see `OpenFilesLimit` in the CLI).
    public var maximumConnections: Int
    /// A connection that sends nothing for this long (an idle keep-alive, a request head never finished) is closed.
    public var idleTimeout: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 8080, apiToken: String? = nil, publicReads: Bool = false,
        workflowsDirectory: String = "workflows", registry: ActionRegistry = ActionRegistry(),
        metrics: (@Sendable () async -> String)? = nil, maximumBodyBytes: Int = 1 << 20,
        maximumConnections: Int = 512, idleTimeout: Duration = .seconds(60)
    ) {
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.host = host
        self.port = port
        self.apiToken = apiToken.flatMap { $0.isEmpty ? nil : $0 }
        self.publicReads = publicReads
        self.workflowsDirectory = workflowsDirectory
        self.registry = registry
        self.metrics = metrics
        self.maximumBodyBytes = maximumBodyBytes
    }
}
