import Foundation

/// A VPC endpoint (VPCEP), the link between a collection node and SecMaster.
public struct Endpoint: Sendable, Equatable {
    public var id: String
    public var projectID: String
    public var serviceName: String
    public var serviceID: String
    public var vpcID: String
    public var subnetID: String
    public var ip: String
    /// accepted, pendingAcceptance, … (the status before any deletion).
    public var status: String
    public var markerID: Int64
    public var createdAt: Date
    public var updatedAt: Date
    /// Set by DELETE: the endpoint shows `deleting` until `deletingSince + vpcepDeletingSeconds`, then is gone.
    public var deletingSince: Date?
}
