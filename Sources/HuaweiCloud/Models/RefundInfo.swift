import Foundation

/// One line of `ShowRefundOrderDetails`: a negative `amount` is money refunded, a positive one is consumption or
/// the handling fee charged; `baseOrderID` is the original purchase order it relates to.
public struct RefundInfo: Sendable, Codable, Equatable {
    public var id: String?
    public var amount: Decimal
    public var baseOrderID: String?
    public var resourceTypeCode: String?
    public var serviceTypeCode: String?
    public var regionCode: String?
    /// 1 = yuan.
    public var measureID: Int?

    public init(id: String? = nil, amount: Decimal, baseOrderID: String?, resourceTypeCode: String? = nil, serviceTypeCode: String? = nil, regionCode: String? = nil, measureID: Int? = nil) {
        self.id = id
        self.amount = amount
        self.baseOrderID = baseOrderID
        self.resourceTypeCode = resourceTypeCode
        self.serviceTypeCode = serviceTypeCode
        self.regionCode = regionCode
        self.measureID = measureID
    }
}
