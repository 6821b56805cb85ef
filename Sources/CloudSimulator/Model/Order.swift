import Foundation

/// A BSS order: the original purchases (type 1) and the unsubscriptions the simulator creates (type 4).
public struct Order: Sendable, Equatable {
    public enum Kind: Int, Sendable, Equatable {
        case new = 1, renew = 2, unsubscribe = 4
    }

    /// BSS order statuses used here.
    public enum Status: Int, Sendable, Equatable {
        case pendingRefund = 2, processing = 3, cancelled = 4, completed = 5, pendingPayment = 6
    }

    public var orderID: String
    public var kind: Kind
    public var serviceTypeCode: String
    public var createdAt: Date
    /// Status of purchase orders (fixed); unsubscribe orders derive theirs from time, see `status(at:settings:)`.
    public var fixedStatus: Status
    /// Purchase: amount paid. Unsubscribe: amount refunded.
    public var amountCents: Int64
    public var resourceIDs: [String]
    public var refundLines: [RefundLine]
    public var commissionCents: Int64
    public var consumedCents: Int64
    /// Set once the completion effects (resources closed, service resources deleted) have been applied.
    public var completionApplied: Bool

    public func completesAt(settings: SimulatorSettings) -> Date {
        createdAt.addingTimeInterval(settings.orderProcessingSeconds + settings.orderRefundSeconds)
    }

    public func status(at now: Date, settings: SimulatorSettings) -> Status {
        guard kind == .unsubscribe else { return fixedStatus }
        let elapsed = now.timeIntervalSince(createdAt)
        if elapsed < settings.orderProcessingSeconds { return .processing }
        if elapsed < settings.orderProcessingSeconds + settings.orderRefundSeconds { return .pendingRefund }
        return .completed
    }
}

/// One entry of `refund-orders`: negative = refunded, positive = consumed amount or handling fee.
public struct RefundLine: Sendable, Equatable {
    public var id: String
    public var amountCents: Int64
    public var resourceID: String
    public var resourceTypeCode: String
    public var serviceTypeCode: String
    public var regionCode: String
    public var baseOrderID: String
}
