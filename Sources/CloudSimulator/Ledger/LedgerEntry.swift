import Foundation

/// What one mutating request did to one resource.
public struct LedgerEffect: Sendable, Equatable {
    public var resourceID: String
    /// e.g. `unsubscribe_ordered`, `already_unsubscribed`, `delete_started`, `deleted`, `cascade_deleted`, `not_found`.
    public var action: String
    /// `true` only when this request changed the resource; reliability tests count these to prove nothing happened twice.
    public var changed: Bool

    public init(resourceID: String, action: String, changed: Bool) {
        self.resourceID = resourceID
        self.action = action
        self.changed = changed
    }
}

/// Money booked by a request, in cents (refunds positive, as BSS reports them to the customer).
public struct LedgerMoney: Sendable, Equatable {
    public var refundCents: Int64 = 0
    public var feeCents: Int64 = 0
    public var consumedCents: Int64 = 0
    public var fullRefunds: Int = 0

    public init(refundCents: Int64 = 0, feeCents: Int64 = 0, consumedCents: Int64 = 0, fullRefunds: Int = 0) {
        self.refundCents = refundCents
        self.feeCents = feeCents
        self.consumedCents = consumedCents
        self.fullRefunds = fullRefunds
    }

    public var isZero: Bool { refundCents == 0 && feeCents == 0 && consumedCents == 0 && fullRefunds == 0 }
}

/// One record per mutating cloud request, whatever its outcome.
public struct LedgerEntry: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// Changed something.
        case applied
        /// Asked for something already done (or under way); changed nothing.
        case `repeat`
        /// Refused (bad input, domain rule, authentication, throttling); changed nothing.
        case rejected
        /// An injected fault answered before the request reached the service; changed nothing.
        case fault
    }

    public var sequence: Int
    public var time: Date
    public var requestID: String
    /// The account's domain id, or empty when authentication failed before the account was known.
    public var account: String
    public var api: String
    public var method: String
    public var path: String
    public var resourceIDs: [String]
    public var outcome: Outcome
    public var status: Int
    public var errorCode: String?
    public var effects: [LedgerEffect]
    public var money: LedgerMoney
    /// Order ids or job id the request created.
    public var references: [String]
    /// The change was applied but the response was deliberately lost (a `drop_after_apply` fault).
    public var responseDropped: Bool
    public var note: String?

    public var changed: Bool { effects.contains { $0.changed } }
}
