/// Tunable behaviour of the simulator, read from the seed's `settings` object (every field optional).
///
/// Durations are in *simulated* seconds. Defaults are short so a teardown demo finishes in seconds at time
/// scale 1. Fields marked "choice" select behaviour the real cloud does not document (see docs/cloudsim.md).
public struct SimulatorSettings: Sendable, Equatable {
    /// BSS unsubscribe order: status 3 (processing) lasts this long, then 2 (pending refund).
    public var orderProcessingSeconds: Double = 2
    /// BSS unsubscribe order: status 2 (pending refund) lasts this long, then 5 (completed).
    public var orderRefundSeconds: Double = 1
    /// ECS job stays INIT this long before RUNNING.
    public var ecsJobInitSeconds: Double = 0.5
    /// ECS job RUNNING lasts a random duration in this range (seeded RNG).
    public var ecsJobRunSecondsMin: Double = 1
    public var ecsJobRunSecondsMax: Double = 3
    /// A deleted server is still visible (status DELETED) this long after its job succeeded.
    public var serverLingerSeconds: Double = 1
    /// Finished ECS jobs answer 404 this long after they ended (real: one day).
    public var jobPurgeSeconds: Double = 86_400
    /// An expired yearly/monthly resource (not renewed) is kept this long, then released: the ECS server and its
    /// attachments are deleted and SecMaster drops the quota or package (real: a retention period, commonly 15 days).
    public var expiredRetentionDays: Double = 15
    /// A VPC endpoint stays `deleting` this long, then answers 404 `EndPoint.0005`.
    public var vpcepDeletingSeconds: Double = 2
    /// Status of a successful VPCEP delete (choice: 204 per the current docs; older pages say 200).
    public var vpcepDeleteStatus: Int = 204

    /// Allowed `X-Sdk-Date` skew.
    public var maxSkewSeconds: Int64 = 900
    /// Choice: the clock `X-Sdk-Date` is checked against. `real` (default) keeps the official SDKs, which sign
    /// with the wall clock, working while simulated time is sped up or advanced; `simulated` lets tests that
    /// sign with simulated time exercise the skew check on a frozen clock.
    public var signatureClock: SignatureClock = .real
    /// Choice: which requests are checked for replay (`mutating`, `all`, `off`). Off by default: the official SDKs
    /// retry a throttled or failed call with the very same signed headers (urllib3's `Retry`, `with_retry`), which a
    /// cloud refusing repeated signatures would break; nothing published says APIG refuses them.
    public var replayProtection: ReplayProtection = .off

    /// Five-day unconditional refund window.
    public var fullRefundWindowDays: Double = 5
    /// Choice (UNCONFIRMED in the docs): full refunds per account per year.
    public var fullRefundsPerYear: Int = 10
    /// Choice: the handling fee is a percentage of what remains after consumption (`remaining`) or of the payment (`paid`).
    public var feeBase: FeeBase = .remaining

    /// Choice: HTTP status of CBC business errors (the doc table says 200, Terraform sees 400).
    public var bssErrorStatus: Int = 400
    /// Choice: code for a second unsubscribe of an already unsubscribed resource (`CBC.30000067` or `CBC.3124`).
    public var alreadyUnsubscribedCode: String = "CBC.30000067"
    /// Choice: code for an unsubscribe while another order on the resource is in flight (`CBC.30050011` or `CBC.99003651`).
    public var inFlightCode: String = "CBC.30050011"
    /// Choice (UNCONFIRMED): parameter error code for >10 ids, attached-resource ids, wrong billing mode.
    public var bssParameterErrorCode: String = "CBC.0100"
    /// Choice (UNCONFIRMED): refusal of a value-added package while asset quotas remain / edition is not basic.
    public var packageRuleStatus: Int = 400
    public var packageRuleCode: String = "SIM.SecMaster.0001"
    /// Choice (UNCONFIRMED): SecMaster error codes.
    public var secmasterNotFoundCode: String = "SIM.SecMaster.0404"
    public var secmasterPrepaidCode: String = "SIM.SecMaster.0002"
    /// Choice (UNCONFIRMED): what ECS batch delete does with a yearly/monthly server.
    public var ecsPrepaidDelete: ECSPrepaidDelete = .reject
    public var ecsPrepaidCode: String = "Ecs.0000"

    /// Throttling: requests per minute per (account, API); `perAPI` overrides by API name.
    public var rateLimitPerMinute: Int = 600
    public var rateLimitPerAPI: [String: Int] = [:]

    /// Seed of the random generator (fault probabilities, job durations, generated IDs).
    public var randomSeed: UInt64 = 1
    /// Longest a `timeout` fault holds a request (real seconds).
    public var timeoutCapSeconds: Double = 600

    public init() {}

    public enum ReplayProtection: String, Sendable, Equatable, CaseIterable {
        case mutating, all, off
    }

    public enum SignatureClock: String, Sendable, Equatable, CaseIterable {
        case real, simulated
    }

    public enum FeeBase: String, Sendable, Equatable, CaseIterable {
        case remaining, paid
    }

    public enum ECSPrepaidDelete: String, Sendable, Equatable, CaseIterable {
        /// Refuse the whole request with 400 `ecsPrepaidCode`.
        case reject
        /// Accept the request and fail that server's sub-job.
        case failSubjob = "fail_subjob"
    }

    public func rateLimit(for api: String) -> Int { rateLimitPerAPI[api] ?? rateLimitPerMinute }
}
