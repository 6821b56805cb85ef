/// A yearly/monthly resource as BSS lists it (`ListPayPerUseCustomerResources`, despite its name).
public struct CustomerResource: Sendable, Codable, Equatable {
    public var resourceID: String
    public var resourceName: String?
    /// 2 in use, 3 closed, 4 frozen, 5 expired.
    public var status: Int
    /// UTC `yyyy-MM-dd'T'HH:mm:ss'Z'`, as sent.
    public var expireTime: String?
    public var effectiveTime: String?
    public var isMainResource: Bool
    public var parentResourceID: String?
    public var serviceTypeCode: String
    public var resourceTypeCode: String
    /// 0 grace period, 1 to pay-per-use, 2 auto delete, 3 auto renew, 4 freeze, 5 delete from retention.
    public var expirePolicy: Int?
    public var regionCode: String?
    public var projectID: String?

    public static let statusInUse = 2
    public static let statusClosed = 3
    public static let statusFrozen = 4
    public static let statusExpired = 5

    public init(
        resourceID: String, resourceName: String? = nil, status: Int, expireTime: String?, effectiveTime: String? = nil,
        isMainResource: Bool, parentResourceID: String?, serviceTypeCode: String, resourceTypeCode: String,
        expirePolicy: Int?, regionCode: String? = nil, projectID: String? = nil
    ) {
        self.resourceID = resourceID
        self.resourceName = resourceName
        self.status = status
        self.expireTime = expireTime
        self.effectiveTime = effectiveTime
        self.isMainResource = isMainResource
        self.parentResourceID = parentResourceID
        self.serviceTypeCode = serviceTypeCode
        self.resourceTypeCode = resourceTypeCode
        self.expirePolicy = expirePolicy
        self.regionCode = regionCode
        self.projectID = projectID
    }
}
