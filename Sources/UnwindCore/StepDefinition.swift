/// One step of a workflow, fully resolved: defaults applied and predecessors made explicit.
public struct StepDefinition: Sendable, Codable, Equatable {
    public var id: String
    /// Name of the forward action, registered in Swift code.
    public var action: String
    public var description: String?
    /// Resolved predecessors: the `after:` list in a DAG file, or `[previous step id]` in a linear file.
    public var after: [String]
    public var compensation: CompensationDefinition?
    public var retry: RetryPolicy
    /// Per-attempt timeout.
    public var timeout: Duration
    /// The point of no return: once this step succeeds the saga only moves forward.
    public var isPivot: Bool
    /// Scheduling hint among runnable steps; higher runs first. Default 0.
    public var priority: Int

    /// Step timeout when neither the step nor `defaults` declares one.
    public static let defaultTimeout: Duration = .seconds(300)

    public init(
        id: String,
        action: String,
        description: String? = nil,
        after: [String] = [],
        compensation: CompensationDefinition? = nil,
        retry: RetryPolicy = .default,
        timeout: Duration = StepDefinition.defaultTimeout,
        isPivot: Bool = false,
        priority: Int = 0
    ) {
        self.id = id
        self.action = action
        self.description = description
        self.after = after
        self.compensation = compensation
        self.retry = retry
        self.timeout = timeout
        self.isPivot = isPivot
        self.priority = priority
    }

    private enum CodingKeys: String, CodingKey {
        case id, action, description, after, compensation, retry, timeout, isPivot, priority
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        action = try container.decode(String.self, forKey: .action)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        after = try container.decode([String].self, forKey: .after)
        compensation = try container.decodeIfPresent(CompensationDefinition.self, forKey: .compensation)
        retry = try container.decode(RetryPolicy.self, forKey: .retry)
        timeout = try container.decodeDefinitionDuration(forKey: .timeout)
        isPivot = try container.decode(Bool.self, forKey: .isPivot)
        priority = try container.decode(Int.self, forKey: .priority)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(action, forKey: .action)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(after, forKey: .after)
        try container.encodeIfPresent(compensation, forKey: .compensation)
        try container.encode(retry, forKey: .retry)
        try container.encode(timeout.timeInterval, forKey: .timeout)
        try container.encode(isPivot, forKey: .isPivot)
        try container.encode(priority, forKey: .priority)
    }
}
