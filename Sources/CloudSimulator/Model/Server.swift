import Foundation

/// An ECS server (collection nodes run on these).
public struct Server: Sendable, Equatable {
    public enum ChargingMode: String, Sendable, Equatable {
        case postpaid, prepaid

        /// ECS reports billing in `metadata.charging_mode`: "0" pay-per-use, "1" yearly/monthly.
        var metadataValue: String { self == .prepaid ? "1" : "0" }
    }

    public var id: String
    public var name: String
    public var projectID: String
    public var chargingMode: ChargingMode
    /// ACTIVE or SHUTOFF while it exists.
    public var status: String
    public var vpcID: String
    public var privateIP: String
    public var createdAt: Date
    public var publicIPs: [PublicIP]
    public var dataVolumeIDs: [String]
    /// The job deleting it, while one runs.
    public var deletingJobID: String?
    /// When it was deleted (job success or BSS order completion); visible as DELETED for a short while after.
    public var deletedAt: Date?

    public struct PublicIP: Sendable, Equatable {
        public var id: String
        public var address: String
        /// The EIP's own setting, used when `delete_publicip` is omitted.
        public var deleteOnTermination: Bool
    }
}
