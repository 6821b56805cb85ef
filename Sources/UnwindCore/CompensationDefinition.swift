/// The action that undoes a step, run (newest first) when the saga rolls back before its pivot.
public struct CompensationDefinition: Sendable, Codable, Equatable {
    public var action: String
    public var retry: RetryPolicy
    /// Per-attempt timeout.
    public var timeout: Duration

    public init(action: String, retry: RetryPolicy = .default, timeout: Duration = StepDefinition.defaultTimeout) {
        self.action = action
        self.retry = retry
        self.timeout = timeout
    }

    private enum CodingKeys: String, CodingKey { case action, retry, timeout }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        action = try container.decode(String.self, forKey: .action)
        retry = try container.decode(RetryPolicy.self, forKey: .retry)
        timeout = try container.decodeDefinitionDuration(forKey: .timeout)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(action, forKey: .action)
        try container.encode(retry, forKey: .retry)
        try container.encode(timeout.timeInterval, forKey: .timeout)
    }
}
