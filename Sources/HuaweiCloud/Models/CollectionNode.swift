/// A SecMaster log-collection node. The ECS server behind it is not named in the record: match it by private IP
/// and VPC in the ECS server list; `vpcEndpointID` names the VPC endpoint the node uses.
public struct CollectionNode: Sendable, Codable, Equatable {
    public var nodeID: String
    public var nodeName: String
    public var vpcEndpointID: String?
    public var privateIP: String?
    public var ipAddress: String?
    public var vpcID: String?
    public var subnetID: String?
    public var region: String?

    public init(
        nodeID: String, nodeName: String, vpcEndpointID: String? = nil, privateIP: String? = nil, ipAddress: String? = nil,
        vpcID: String? = nil, subnetID: String? = nil, region: String? = nil
    ) {
        self.nodeID = nodeID
        self.nodeName = nodeName
        self.vpcEndpointID = vpcEndpointID
        self.privateIP = privateIP
        self.ipAddress = ipAddress
        self.vpcID = vpcID
        self.subnetID = subnetID
        self.region = region
    }
}
