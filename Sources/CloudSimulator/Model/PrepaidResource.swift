import Foundation

/// A yearly/monthly resource as BSS sees it (`OrderInstanceV2`).
///
/// A prepaid ECS server or SecMaster quota/package is represented twice: here (billing) and in its own service
/// (`Server`, `SecMasterResource`), linked by `resourceID`. Completing an unsubscribe order removes both.
public struct PrepaidResource: Sendable, Equatable {
    public enum Status: Int, Sendable, Equatable {
        case inUse = 2, closed = 3, frozen = 4, expired = 5
    }

    /// BSS instance id (`id`), distinct from `resourceID`.
    public var instanceID: String
    public var resourceID: String
    public var name: String
    public var serviceTypeCode: String
    public var resourceTypeCode: String
    public var regionCode: String
    public var projectID: String
    public var parentResourceID: String?
    public var status: Status
    public var effectiveAt: Date
    public var expireAt: Date
    /// Purchased term in months (1, 3, 6, 12, 24, 36).
    public var termMonths: Int
    /// Actual payment in cents (attached resources are paid through their primary: 0).
    public var paidCents: Int64
    /// The purchase order the money was paid with (`base_order_id` of refund entries).
    public var baseOrderID: String
    public var autoRenew: Bool
    /// An unpaid order on this resource blocks unsubscription (`CBC.30050010`).
    public var unpaidOrderID: String?
    /// The unsubscription order, once one was placed.
    public var unsubscribeOrderID: String?

    public var isMain: Bool { parentResourceID == nil }
}
