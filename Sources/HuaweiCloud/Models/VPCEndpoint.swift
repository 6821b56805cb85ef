/// A VPC endpoint (`ListEndpoints` / `ListEndpointInfoDetails`).
public struct VPCEndpoint: Sendable, Codable, Equatable {
    public var id: String
    /// pendingAcceptance, creating, accepted, rejected, failed, deleting (kept as sent).
    public var status: String
    public var vpcID: String?
    public var endpointServiceName: String?
    public var ip: String?

    public init(id: String, status: String, vpcID: String?, endpointServiceName: String?, ip: String? = nil) {
        self.id = id
        self.status = status
        self.vpcID = vpcID
        self.endpointServiceName = endpointServiceName
        self.ip = ip
    }
}
