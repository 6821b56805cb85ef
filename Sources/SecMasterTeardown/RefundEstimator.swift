import Foundation

/// The refund or handling fee BSS will book for unsubscribing a yearly/monthly resource, per the billing rules
/// (docs: cloud-apis.md §1.9), so an operator sees the money before anything changes.
///
/// - Within the five-day window of the purchase, while the account has full refunds left this year: everything
///   paid is refunded, no fee (and one full refund is used).
/// - Otherwise: consumed = paid × used hours / term hours (both rounded down to whole hours); fee = a rate by
///   term and time used (3-year term: 15 % / 10 % / 5 % for ≤ 1 / 1–2 / 2–3 years used; 2-year: 15 % / 10 %;
///   1-year and monthly: 10 %) of what remains after consumption; refund = paid − consumed − fee, at least 0.
/// - Not yet effective (a renewal period): no consumption, no fee.
///
/// Amounts are computed in integer cents, rounding half up, as BSS books them.
public struct RefundEstimator: Sendable {
    public var windowDays: Double
    public var fullRefundsPerYear: Int
    /// What the fee rate applies to. The billing guide does not say; `remaining` (paid − consumed) is the
    /// default, `paid` the alternative (configurable to match an account's observed bills).
    public var feeBase: FeeBase
    /// The window is taken to close this much earlier than this machine's clock says. BSS judges it by its own
    /// clock, which may run ahead (requests are signed within 15 minutes of it): a resource in the window's last
    /// minutes is planned, and gated at order time, as one that costs a fee.
    public var clockMargin: TimeInterval

    public enum FeeBase: String, Sendable, Codable { case remaining, paid }

    /// The window as messages name it: "five-day" by the published rules, else e.g. "3-day" or "2.5-day".
    public var windowName: String {
        if windowDays == 5 { return "five-day" }
        return windowDays == windowDays.rounded() ? "\(Int(windowDays))-day" : String(format: "%.1f-day", windowDays)
    }

    public init(windowDays: Double = 5, fullRefundsPerYear: Int = 10, feeBase: FeeBase = .remaining, clockMargin: TimeInterval = 15 * 60) {
        self.windowDays = windowDays
        self.fullRefundsPerYear = fullRefundsPerYear
        self.feeBase = feeBase
        self.clockMargin = clockMargin
    }

    public struct Estimate: Sendable, Codable, Equatable {
        public var paid: Double
        public var refund: Double
        public var consumed: Double
        public var fee: Double
        public var fullRefund: Bool
        public var feePercent: Int
    }

    /// What unsubscribing a resource now costs, as far as its dates tell without what was paid.
    public enum Terms: String, Sendable, Codable, Equatable {
        /// A renewal period that has not taken effect: no consumption, no fee.
        case notYetEffective = "not_yet_effective"
        /// Inside the five-day window with a full refund left: everything paid comes back (one full refund used).
        case fullRefund = "full_refund"
        /// A handling fee on what remains after consumption.
        case handlingFee = "handling_fee"
    }

    /// Whether the window closes (or closed) within ``clockMargin`` of `now` either way: by BSS's clock the resource
    /// may be inside it or not. It is planned with its fee, and as using one of the year's full refunds all the
    /// same: when BSS grants it one, a dearer resource unsubscribed later would otherwise be charged a fee nobody
    /// acknowledged.
    ///
    /// With `since` (when the inventory was taken), a window that closed at any time from then to `now` counts too:
    /// an order-time check comes after the teardown's earlier steps, which may have unsubscribed such a resource
    /// while its window was closing.
    public func isNearWindowClose(effectiveAt: Date, since: Date? = nil, now: Date) -> Bool {
        let closes = effectiveAt.addingTimeInterval(windowDays * 86_400)
        return closes >= min(since ?? now, now).addingTimeInterval(-clockMargin) && closes < now.addingTimeInterval(clockMargin)
    }

    public func terms(effectiveAt: Date, now: Date, fullRefundsUsed: Int) -> Terms {
        let elapsed = now.timeIntervalSince(effectiveAt)
        if elapsed < 0 { return .notYetEffective }
        if elapsed < windowDays * 86_400 - clockMargin, fullRefundsUsed < fullRefundsPerYear { return .fullRefund }
        return .handlingFee
    }

    /// - Parameter fullRefundsUsed: full refunds the account used in the year before `now`, including those this
    ///   teardown itself uses for resources unsubscribed earlier.
    public func estimate(paid: Double, effectiveAt: Date, expireAt: Date, termMonths: Int, now: Date, fullRefundsUsed: Int) -> Estimate {
        // Bounded before any integer arithmetic (the reader refuses implausible amounts; this keeps the estimate
        // total whatever it is given).
        let paidCents = paid.isFinite ? Int64((min(max(paid, 0), Self.largestAmount) * 100).rounded()) : 0
        let elapsed = now.timeIntervalSince(effectiveAt)
        func money(_ cents: Int64) -> Double { Double(cents) / 100 }
        switch terms(effectiveAt: effectiveAt, now: now, fullRefundsUsed: fullRefundsUsed) {
        case .notYetEffective: return Estimate(paid: paid, refund: paid, consumed: 0, fee: 0, fullRefund: false, feePercent: 0)
        case .fullRefund: return Estimate(paid: paid, refund: paid, consumed: 0, fee: 0, fullRefund: true, feePercent: 0)
        case .handlingFee: break
        }
        let usedHours = Int64(elapsed / 3600)
        let termHours = max(1, Int64(expireAt.timeIntervalSince(effectiveAt) / 3600))
        let (product, overflow) = paidCents.multipliedReportingOverflow(by: max(0, min(usedHours, termHours)))
        let consumed = overflow
            ? Int64((Double(paidCents) * Double(min(usedHours, termHours)) / Double(termHours)).rounded())
            : min(paidCents, Self.divideRounded(product, termHours))
        let percent = Self.feePercent(termMonths: termMonths, usedYears: Double(usedHours) / (365 * 24))
        let base = feeBase == .paid ? paidCents : paidCents - consumed
        let fee = Self.divideRounded(base * Int64(percent), 100)
        return Estimate(
            paid: paid, refund: money(max(0, paidCents - consumed - fee)), consumed: money(consumed), fee: money(fee),
            fullRefund: false, feePercent: percent)
    }

    static func feePercent(termMonths: Int, usedYears: Double) -> Int {
        switch termMonths {
        case 36...: usedYears <= 1 ? 15 : usedYears <= 2 ? 10 : 5
        case 24..<36: usedYears <= 1 ? 15 : 10
        default: 10
        }
    }

    /// `numerator / denominator` rounded half up, for a non-negative numerator and a positive denominator, without
    /// the overflow of `(2n + d) / 2d` near `Int64.max`.
    static func divideRounded(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        return remainder >= denominator - remainder ? quotient + 1 : quotient
    }

    /// The largest amount (CNY) any estimate works with; the inventory refuses larger ones as implausible.
    public static let largestAmount: Double = 1_000_000_000
}
