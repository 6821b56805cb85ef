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

    public static let typeUnsubscribe = 4

    public init(orderID: String, status: Int, orderType: Int, serviceTypeCode: String? = nil, createTime: String? = nil, amountAfterDiscount: Decimal? = nil) {
        self.orderID = orderID
        self.status = status
        self.orderType = orderType
        self.serviceTypeCode = serviceTypeCode
        self.createTime = createTime
        self.amountAfterDiscount = amountAfterDiscount
    }
}
