import Foundation

/// A SecMaster workspace and its collection nodes.
public struct Workspace: Sendable, Equatable {
    public var id: String
    public var name: String
    public var projectID: String
    public var createdAt: Date
    public var nodes: [CollectionNode]
}

/// A SecMaster collection node: an agent on an ECS server connected through a VPC endpoint.
public struct CollectionNode: Sendable, Equatable {
    public var nodeID: String
    public var nodeName: String
    public var privateIP: String
    public var vpcID: String
    public var subnetID: String
    public var vpcEndpointID: String
    public var vpcEndpointAddress: String
    public var region: String
    public var createdAt: Date
}
