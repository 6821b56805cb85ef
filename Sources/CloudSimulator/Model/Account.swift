import Foundation

/// One customer account (a Huawei Cloud "domain") and everything the simulator knows about it.
public struct Account: Sendable, Equatable {
    public var name: String
    public var domainID: String
    public var domainName: String
    public var region: String
    public var projectIDs: [String]
    public var accessKey: String
    public var secretKey: String
    /// A static token accepted as `X-Auth-Token` (the simulator does not implement IAM's token endpoint).
    public var authToken: String?
    /// Set for a temporary access key: the `X-Security-Token` its requests must carry and sign.
    public var securityToken: String?

    /// `csb_version`: NA, BASIC, STANDARD or PROFESSIONAL.
    public var edition: String
    public var secmasterResources: [SecMasterResource]
    /// SecMaster resources that existed and were removed (to answer a second removal as a repeat).
    public var removedSecMasterResourceIDs: [String] = []
    public var prepaidResources: [PrepaidResource]
    public var orders: [Order]
    public var servers: [Server]
    public var jobs: [Job]
    public var endpoints: [Endpoint]
    public var workspaces: [Workspace]
    /// Times at which a five-day full refund was granted (the yearly count looks back one year from "now").
    public var fullRefundTimes: [Date]
    /// Public IPs and data disks released or detached by server deletions (`delete_publicip` / `delete_volume`).
    public var releasedAttachments: [ReleasedAttachment] = []

    public var primaryProjectID: String { projectIDs.first ?? "" }
}

/// What happened to an EIP or data disk when its server was deleted.
public struct ReleasedAttachment: Sendable, Equatable {
    public enum Kind: String, Sendable { case publicIP = "public_ip", volume }
    public enum Fate: String, Sendable { case released, detached }
    public var id: String
    public var kind: Kind
    public var fate: Fate
    public var serverID: String
    public var at: Date
}
