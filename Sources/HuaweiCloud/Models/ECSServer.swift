/// An ECS server (`ShowServer` / `ListServersDetails`), reduced to what the teardown needs.
public struct ECSServer: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    /// ACTIVE, BUILD, DELETED, SHUTOFF, SOFT_DELETED, … (kept as sent).
    public var status: String
    /// From `metadata.charging_mode` ("0" pay-per-use, "1" yearly/monthly); `nil` when the server does not say.
    public var chargingMode: ChargingMode?
    /// `metadata.vpc_id`, else the first key of `addresses`.
    public var vpcID: String?
    /// Fixed (private) addresses from `addresses`.
    public var privateIPs: [String]
    /// Floating (EIP) addresses from `addresses`.
    public var publicIPs: [String]

    /// `OS-EXT-STS:task_state`: what ECS is doing to it now, e.g. `deleting` (its `status` stays `ACTIVE` or
    /// `SHUTOFF` meanwhile; ECS has no `DELETING` status).
    public var taskState: String?

    public var isDeleted: Bool { status == "DELETED" || status == "SOFT_DELETED" }
    /// A deletion is under way (someone's delete job): asking for it again only makes a repeated request.
    public var isBeingDeleted: Bool { taskState?.lowercased() == "deleting" || status == "DELETING" }

    public init(
        id: String, name: String, status: String, chargingMode: ChargingMode?, vpcID: String? = nil, privateIPs: [String] = [],
        publicIPs: [String] = [], taskState: String? = nil
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.chargingMode = chargingMode
        self.vpcID = vpcID
        self.privateIPs = privateIPs
        self.publicIPs = publicIPs
        self.taskState = taskState
    }
}
