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

    public var isDeleted: Bool { status == "DELETED" || status == "SOFT_DELETED" }

    public init(id: String, name: String, status: String, chargingMode: ChargingMode?, vpcID: String? = nil, privateIPs: [String] = [], publicIPs: [String] = []) {
        self.id = id
        self.name = name
        self.status = status
        self.chargingMode = chargingMode
        self.vpcID = vpcID
        self.privateIPs = privateIPs
        self.publicIPs = publicIPs
    }
}
