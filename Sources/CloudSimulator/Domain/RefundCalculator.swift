import Foundation

/// Refund and handling-fee arithmetic for unsubscribing a yearly/monthly resource (docs/cloud-apis.md §1.9).
///
/// - Within the five-day window, and while the account has full refunds left this year: everything paid is
///   refunded, no consumption, no fee.
/// - Otherwise: consumed = paid × used hours / term hours (both rounded down to whole hours); the fee rate depends
///   on the term and how long it has been used (3-year: 15 % / 10 % / 5 % for ≤1 / 1–2 / 2–3 years used; 2-year:
///   15 % / 10 %; 1-year and monthly: 10 %); refund = paid − consumed − fee, floored at 0.
/// - A resource not yet effective: no consumption, no fee.
///
/// Money is in integer cents so ledger totals are exact; fractional cents round half up.
public struct RefundCalculator: Sendable {
    public var windowDays: Double
    public var fullRefundsPerYear: Int
    public var feeBase: SimulatorSettings.FeeBase

    public init(windowDays: Double = 5, fullRefundsPerYear: Int = 10, feeBase: SimulatorSettings.FeeBase = .remaining) {
        self.windowDays = windowDays
        self.fullRefundsPerYear = fullRefundsPerYear
        self.feeBase = feeBase
    }

    public init(settings: SimulatorSettings) {
        self.init(windowDays: settings.fullRefundWindowDays, fullRefundsPerYear: settings.fullRefundsPerYear, feeBase: settings.feeBase)
    }

    public struct Input: Sendable, Equatable {
        public var paidCents: Int64
        public var effectiveAt: Date
        public var expireAt: Date
        public var termMonths: Int
        public var now: Date
        /// Full refunds the account already used in the year before `now`.
        public var fullRefundsUsed: Int

        public init(paidCents: Int64, effectiveAt: Date, expireAt: Date, termMonths: Int, now: Date, fullRefundsUsed: Int) {
            self.paidCents = paidCents
            self.effectiveAt = effectiveAt
            self.expireAt = expireAt
            self.termMonths = termMonths
            self.now = now
            self.fullRefundsUsed = fullRefundsUsed
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var refundCents: Int64
        public var consumedCents: Int64
        public var feeCents: Int64
        /// The five-day unconditional refund was applied (and counts against the yearly quota).
        public var fullRefund: Bool
        /// Fee rate applied, in percent.
        public var feePercent: Int

        public init(refundCents: Int64, consumedCents: Int64, feeCents: Int64, fullRefund: Bool, feePercent: Int) {
            self.refundCents = refundCents
            self.consumedCents = consumedCents
            self.feeCents = feeCents
            self.fullRefund = fullRefund
            self.feePercent = feePercent
        }
    }

    public func calculate(_ input: Input) -> Outcome {
        let elapsed = input.now.timeIntervalSince(input.effectiveAt)
        if elapsed < 0 {
            return Outcome(refundCents: input.paidCents, consumedCents: 0, feeCents: 0, fullRefund: false, feePercent: 0)
        }
        if elapsed < windowDays * 86_400, input.fullRefundsUsed < fullRefundsPerYear {
            return Outcome(refundCents: input.paidCents, consumedCents: 0, feeCents: 0, fullRefund: true, feePercent: 0)
        }
        let usedHours = Int64(elapsed / 3600)
        let termHours = max(1, Int64(input.expireAt.timeIntervalSince(input.effectiveAt) / 3600))
        let consumed = min(input.paidCents, Self.divideRounded(input.paidCents * min(usedHours, termHours), termHours))
        let percent = Self.feePercent(termMonths: input.termMonths, usedYears: Double(usedHours) / (365 * 24))
        let base = feeBase == .paid ? input.paidCents : input.paidCents - consumed
        let fee = Self.divideRounded(base * Int64(percent), 100)
        return Outcome(refundCents: max(0, input.paidCents - consumed - fee), consumedCents: consumed, feeCents: fee, fullRefund: false, feePercent: percent)
    }

    /// Handling-fee percentage by subscribed term and time used.
    public static func feePercent(termMonths: Int, usedYears: Double) -> Int {
        switch termMonths {
        case 36...: usedYears <= 1 ? 15 : usedYears <= 2 ? 10 : 5
        case 24..<36: usedYears <= 1 ? 15 : 10
        default: 10
        }
    }

    /// Integer division rounding half up (values here are never negative).
    static func divideRounded(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        (numerator * 2 + denominator) / (denominator * 2)
    }
}
