import Foundation

/// An order in `ListCustomerOrders`.
public struct CustomerOrder: Sendable, Codable, Equatable {
    public var orderID: String
    /// 1 pending approval, 2 pending refund, 3 processing, 4 cancelled, 5 completed, 6 pending payment, 9 pending confirmation.
    public var status: Int
    /// 1 new, 2 renew, 3 change, 4 unsubscribe, …
    public var orderType: Int
    public var serviceTypeCode: String?
    public var createTime: String?
    public var amountAfterDiscount: Decimal?
    /// `amount_info.commission_amount`: the handling fee of an unsubscription order, when the list carries it.
    public var commissionAmount: Decimal?
    /// `amount_info.consumed_amount`: what was consumed, for an unsubscription order, when the list carries it.
    public var consumedAmount: Decimal?

    public static let typeUnsubscribe = 4

    public init(
        orderID: String, status: Int, orderType: Int, serviceTypeCode: String? = nil, createTime: String? = nil,
        amountAfterDiscount: Decimal? = nil, commissionAmount: Decimal? = nil, consumedAmount: Decimal? = nil
    ) {
        self.orderID = orderID
        self.status = status
        self.orderType = orderType
        self.serviceTypeCode = serviceTypeCode
        self.createTime = createTime
        self.amountAfterDiscount = amountAfterDiscount
        self.commissionAmount = commissionAmount
        self.consumedAmount = consumedAmount
    }
}
