import Foundation

/// `ShowCustomerOrderDetails.order_info`: status and, for unsubscription orders, the fee and consumed amount.
public struct OrderDetails: Sendable, Codable, Equatable {
    public var orderID: String
    /// As `CustomerOrder.status`; 2 = pending refund, 3 = processing, 6 = pending payment are still moving, 5 = completed.
    public var status: Int
    public var orderType: Int?
    /// Handling fee (unsubscription orders only).
    public var commissionAmount: Decimal?
    /// Amount consumed before unsubscription (unsubscription orders only).
    public var consumedAmount: Decimal?
    public var amountAfterDiscount: Decimal?
    public var officialAmount: Decimal?
    public var currency: String?

    public static let statusCompleted = 5
    /// Statuses Terraform's order waiter treats as "still in progress".
    public static let pendingStatuses: Set<Int> = [2, 3, 6]

    public var isCompleted: Bool { status == Self.statusCompleted }
    public var isPending: Bool { Self.pendingStatuses.contains(status) }

    public init(
        orderID: String, status: Int, orderType: Int? = nil, commissionAmount: Decimal? = nil, consumedAmount: Decimal? = nil,
        amountAfterDiscount: Decimal? = nil, officialAmount: Decimal? = nil, currency: String? = nil
    ) {
        self.orderID = orderID
        self.status = status
        self.orderType = orderType
        self.commissionAmount = commissionAmount
        self.consumedAmount = consumedAmount
        self.amountAfterDiscount = amountAfterDiscount
        self.officialAmount = officialAmount
        self.currency = currency
    }
}
