import Foundation

/// The seed file: JSON describing settings, fault rules and accounts (documented in docs/cloudsim.md).
///
/// Decoded with `convertFromSnakeCase`, so `paid_amount` in the file is `paidAmount` here. Every optional
/// field has a default chosen so that a minimal account (ids, keys, region) is valid.
public struct Seed: Sendable, Decodable {
    public var settings: Settings?
    public var faults: [JSON]?
    public var accounts: [SeedAccount]

    public struct Settings: Sendable, Decodable {
        public var orderProcessingSeconds: Double?
        public var orderRefundSeconds: Double?
        public var ecsJobInitSeconds: Double?
        public var ecsJobRunSecondsMin: Double?
        public var ecsJobRunSecondsMax: Double?
        public var serverLingerSeconds: Double?
        public var jobPurgeSeconds: Double?
        public var expiredRetentionDays: Double?
        public var vpcepDeletingSeconds: Double?
        public var vpcepDeleteStatus: Int?
        public var maxSkewSeconds: Int64?
        public var replayProtection: SimulatorSettings.ReplayProtection?
        public var signatureClock: SimulatorSettings.SignatureClock?
        public var fullRefundWindowDays: Double?
        public var fullRefundsPerYear: Int?
        public var feeBase: SimulatorSettings.FeeBase?
        public var bssErrorStatus: Int?
        public var alreadyUnsubscribedCode: String?
        public var inFlightCode: String?
        public var bssParameterErrorCode: String?
        public var packageRuleStatus: Int?
        public var packageRuleCode: String?
        public var secmasterNotFoundCode: String?
        public var secmasterPrepaidCode: String?
        public var ecsPrepaidDelete: SimulatorSettings.ECSPrepaidDelete?
        public var ecsPrepaidCode: String?
        public var rateLimits: [String: Int]?
        public var randomSeed: UInt64?
        public var timeoutCapSeconds: Double?
    }
}

public struct SeedAccount: Sendable, Decodable {
    public var name: String
    public var domainId: String
    public var domainName: String?
    public var region: String?
    public var projectIds: [String]
    public var accessKey: String
    public var secretKey: String
    public var authToken: String?
    /// Makes the access key a temporary one: every request it signs must carry (and sign) this
    /// `X-Security-Token`, as IAM's temporary AK/SK pairs must.
    public var securityToken: String?
    /// `csb_version`; derived from the quotas when omitted (NA when the account has no SecMaster resources).
    public var edition: String?
    /// Five-day full refunds already used in the past year (counted as used at load time).
    public var fullRefundsUsed: Int?
    public var secmaster: [SeedSecMasterResource]?
    public var servers: [SeedServer]?
    public var endpoints: [SeedEndpoint]?
    public var workspaces: [SeedWorkspace]?
}

public enum SeedChargingMode: String, Sendable, Decodable {
    case prepaid, postpaid

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let mode = SeedChargingMode(rawValue: text.lowercased()) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected 'prepaid' or 'postpaid', got '\(text)'")
        }
        self = mode
    }
}

/// Purchase facts shared by prepaid resources.
public protocol SeedPurchase {
    var purchased: SeedTime? { get }
    var term: SeedTerm? { get }
    var paidAmount: Double? { get }
    var unpaidOrder: Bool? { get }
    /// Auto-renew is on for this yearly/monthly resource (default off).
    var autoRenew: Bool? { get }
}

public struct SeedSecMasterResource: Sendable, Decodable, SeedPurchase {
    public enum Kind: String, Sendable, Decodable {
        case quota, package
    }

    public var resourceId: String
    public var kind: Kind
    /// Quota: `standard` or `professional`. Package: large_screen, log_collection, log_retention, log_analysis, soar.
    public var spec: String
    public var chargingMode: SeedChargingMode
    public var size: Int?
    public var projectId: String?
    public var purchased: SeedTime?
    public var term: SeedTerm?
    /// Actual payment in yuan (prepaid only).
    public var paidAmount: Double?
    /// The resource belongs to an unpaid (pending payment) order, which blocks unsubscription.
    public var unpaidOrder: Bool?
    public var autoRenew: Bool?
}

public struct SeedServer: Sendable, Decodable, SeedPurchase {
    public var id: String
    public var name: String?
    public var chargingMode: SeedChargingMode
    public var status: String?
    public var projectId: String?
    public var vpcId: String?
    public var privateIp: String?
    public var purchased: SeedTime?
    public var term: SeedTerm?
    public var paidAmount: Double?
    public var unpaidOrder: Bool?
    public var autoRenew: Bool?
    public var publicIps: [PublicIP]?
    public var dataVolumes: [String]?

    public struct PublicIP: Sendable, Decodable {
        public var id: String
        public var address: String?
        public var deleteOnTermination: Bool?
    }
}

public struct SeedEndpoint: Sendable, Decodable {
    public var id: String
    public var projectId: String?
    public var serviceName: String?
    public var vpcId: String?
    public var subnetId: String?
    public var ip: String?
    public var status: String?
    public var created: SeedTime?
}

public struct SeedWorkspace: Sendable, Decodable {
    public var id: String
    public var name: String?
    public var projectId: String?
    public var nodes: [Node]?

    public struct Node: Sendable, Decodable {
        public var nodeId: String
        public var nodeName: String?
        public var privateIp: String?
        public var vpcId: String?
        public var subnetId: String?
        public var vpcEndpointId: String
        public var vpcEndpointAddress: String?
    }
}
