/// One fault-injection rule, from the seed's `faults` list or `POST /_sim/faults`.
///
/// ```json
/// {"api": "ecs.delete_servers", "kind": "error", "status": 503, "count": 2}
/// {"api": "bss.*", "kind": "slow", "delay_seconds": 3, "probability": 0.2}
/// {"api": "vpcep.delete_endpoint", "kind": "drop_after_apply", "count": 1, "skip": 1}
/// ```
/// A rule fires on matching calls: with `count`, on the next `count` matches (after skipping `skip`), then it is
/// spent; with `probability`, on that fraction of matches (seeded RNG); with both, randomly until `count` fired;
/// with neither, on every match.
public struct FaultRule: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// Answer with an error status (and the service's error body) without reaching the service.
        case error
        /// Never answer (until the client gives up or the timeout cap passes).
        case timeout
        /// Close the TCP connection without an answer, before the service sees the request.
        case reset
        /// Answer normally after `delay_seconds` (real seconds).
        case slow
        /// Apply the change, record it, then close the connection without an answer.
        case dropAfterApply = "drop_after_apply"
        /// ECS delete: the job is accepted but fails (servers stay).
        case jobFail = "job_fail"
        /// Reads answer from the state as it was before the latest change (eventual consistency).
        case staleRead = "stale_read"
    }

    public var id: Int
    /// An API name (`ecs.delete_servers`), a service wildcard (`ecs.*`) or `*`.
    public var api: String
    /// Only for this account (domain id or account name); `nil` = every account.
    public var account: String?
    public var kind: Kind
    public var status: Int?
    public var code: String?
    public var message: String?
    public var delaySeconds: Double?
    public var probability: Double?
    /// Remaining firings for scripted rules; `nil` = unlimited.
    public var remaining: Int?
    /// Matching calls still to let through before the rule starts firing.
    public var skip: Int
    /// How many times the rule has fired so far (shown by `GET /_sim/faults`).
    public var fired = 0
    /// Fire at most once for each resource a mutating call names ("every ECS job fails once"); calls naming no
    /// resource are not affected by this limit.
    public var oncePerResource = false
    /// The resources this rule has fired for, when ``oncePerResource``.
    public var firedFor: Set<String> = []

    public init(id: Int = 0, api: String, account: String? = nil, kind: Kind, status: Int? = nil, code: String? = nil, message: String? = nil,
                delaySeconds: Double? = nil, probability: Double? = nil, count: Int? = nil, skip: Int = 0) {
        self.id = id
        self.api = api
        self.account = account
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.delaySeconds = delaySeconds
        self.probability = probability
        self.remaining = count
        self.skip = skip
    }

    public func matches(api name: String, account domainID: String, accountName: String) -> Bool {
        if let account, account != domainID, account != accountName { return false }
        if api == "*" || api == name { return true }
        if api.hasSuffix(".*") { return name.hasPrefix(String(api.dropLast(1))) }
        return false
    }

    public var isSpent: Bool { remaining.map { $0 <= 0 } ?? false }

    /// The fields a rule may have: its own, and those `GET /_sim/faults` adds (so a listed rule can be posted back).
    static let knownKeys: Set<String> = [
        "api", "account", "kind", "status", "code", "message", "delay_seconds", "probability", "count", "skip",
        "once_per_resource", "id", "remaining", "fired",
    ]

    /// Parses a rule from JSON, naming the offending field in the error.
    public static func parse(_ json: JSON, id: Int) throws(FaultRuleError) -> FaultRule {
        guard let fields = json.objectValue else { throw FaultRuleError(field: "", problem: "a fault rule must be an object") }
        // A misspelt key would otherwise leave a rule that fires on every call (`{"cont": 1}` for `count`).
        if let unknown = fields.map(\.0).first(where: { !knownKeys.contains($0) }) {
            throw FaultRuleError(field: unknown, problem: "unknown field (misspelt?); known: \(knownKeys.sorted().joined(separator: ", "))")
        }
        guard let api = json["api"]?.stringValue, !api.isEmpty else { throw FaultRuleError(field: "api", problem: "required: an API name such as ecs.delete_servers, a wildcard such as ecs.*, or *") }
        if api != "*" && !api.hasSuffix(".*") && CloudAPI(rawValue: api) == nil {
            throw FaultRuleError(field: "api", problem: "unknown API '\(api)'; known: \(CloudAPI.allCases.map(\.name).joined(separator: ", "))")
        }
        guard let kindText = json["kind"]?.stringValue, let kind = Kind(rawValue: kindText) else {
            throw FaultRuleError(field: "kind", problem: "must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // A rule that can never fire would sit in the list while a test believes it is being exercised.
        let named = CloudAPI(rawValue: api).map { [$0] } ?? CloudAPI.allCases.filter { api == "*" || $0.name.hasPrefix(String(api.dropLast())) }
        if !named.contains(where: { FaultInjector.applies(kind, to: $0) }) {
            let which: String = switch kind {
            case .dropAfterApply: "changes (a read has nothing to apply)"
            case .staleRead: "reads"
            case .jobFail: "ecs.delete_servers"
            default: "any call"
            }
            throw FaultRuleError(field: "kind", problem: "\(kind.rawValue) applies only to \(which), and '\(api)' names none")
        }
        func optionalInt(_ key: String) throws(FaultRuleError) -> Int? {
            guard let value = json[key], value != .null else { return nil }
            guard let int = value.intValue else { throw FaultRuleError(field: key, problem: "must be an integer") }
            return Int(int)
        }
        func optionalDouble(_ key: String) throws(FaultRuleError) -> Double? {
            guard let value = json[key], value != .null else { return nil }
            guard let double = value.doubleValue else { throw FaultRuleError(field: key, problem: "must be a number") }
            return double
        }
        let status = try optionalInt("status")
        if kind == .error {
            guard let status, (400...599).contains(status) else { throw FaultRuleError(field: "status", problem: "an error fault needs a status between 400 and 599") }
        }
        let probability = try optionalDouble("probability")
        if let probability, !(0...1).contains(probability) { throw FaultRuleError(field: "probability", problem: "must be between 0 and 1") }
        let count = try optionalInt("count")
        if let count, count < 1 { throw FaultRuleError(field: "count", problem: "must be at least 1") }
        let delay = try optionalDouble("delay_seconds")
        if kind == .slow, (delay ?? 0) <= 0 { throw FaultRuleError(field: "delay_seconds", problem: "a slow fault needs delay_seconds > 0") }
        if let delay, !(delay <= 3600) { throw FaultRuleError(field: "delay_seconds", problem: "must be at most 3600 (one hour)") }
        var rule = FaultRule(
            id: id, api: api, account: json["account"]?.stringValue, kind: kind, status: status,
            code: json["code"]?.stringValue, message: json["message"]?.stringValue, delaySeconds: delay,
            probability: probability, count: count, skip: try optionalInt("skip") ?? 0
        )
        if let once = json["once_per_resource"], once != .null {
            guard case .bool(let flag) = once else { throw FaultRuleError(field: "once_per_resource", problem: "must be true or false") }
            rule.oncePerResource = flag
        }
        return rule
    }

    public var json: JSON {
        [
            "id": .int(Int64(id)), "api": .string(api), "account": .optional(account), "kind": .string(kind.rawValue),
            "status": status.map { .int(Int64($0)) } ?? .null, "code": .optional(code), "message": .optional(message),
            "delay_seconds": delaySeconds.map(JSON.double) ?? .null, "probability": probability.map(JSON.double) ?? .null,
            "remaining": remaining.map { .int(Int64($0)) } ?? .null, "skip": .int(Int64(skip)),
            "fired": .int(Int64(fired)), "once_per_resource": .bool(oncePerResource),
        ]
    }
}

public struct FaultRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { field.isEmpty ? problem : "\(field): \(problem)" }
}
