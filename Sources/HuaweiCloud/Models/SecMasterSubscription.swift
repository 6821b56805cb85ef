import Foundation

/// What `ListSubscriptionOrder?page=RESOURCE_LIST` reports: the edition and every quota / package resource.
public struct SecMasterSubscription: Sendable, Codable, Equatable {
    /// `BASIC`, `STANDARD`, `PROFESSIONAL` or `NA` (kept as sent; compare case-insensitively).
    public var csbVersion: String
    public var resources: [SecMasterResource]

    public init(csbVersion: String, resources: [SecMasterResource]) {
        self.csbVersion = csbVersion
        self.resources = resources
    }
}

public struct SecMasterResource: Sendable, Codable, Equatable {
    public var resourceID: String
    /// e.g. `hws.resource.type.secmaster.typical` (quota) or a package type.
    public var resourceType: String
    public var resourceTypeName: String
    public var resourceSpecCode: String?
    /// `.prepaid` resources go through BSS unsubscribe, `.postpaid` ones through SecMaster's delete.
    public var chargingMode: ChargingMode
    /// Only for prepaid resources.
    public var orderID: String?
    /// Only for prepaid resources (the API sends milliseconds since 1970).
    public var expireTime: Date?
    /// Quota size (number of assets) for quotas.
    public var resourceSize: Int?
    /// 0 = running.
    public var resourceStatus: Int?
    public var cloudService: String?

    public init(
        resourceID: String, resourceType: String, resourceTypeName: String, resourceSpecCode: String? = nil,
        chargingMode: ChargingMode, orderID: String? = nil, expireTime: Date? = nil, resourceSize: Int? = nil,
        resourceStatus: Int? = nil, cloudService: String? = nil
    ) {
        self.resourceID = resourceID
        self.resourceType = resourceType
        self.resourceTypeName = resourceTypeName
        self.resourceSpecCode = resourceSpecCode
        self.chargingMode = chargingMode
        self.orderID = orderID
        self.expireTime = expireTime
        self.resourceSize = resourceSize
        self.resourceStatus = resourceStatus
        self.cloudService = cloudService
    }
}
