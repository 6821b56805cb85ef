import CloudSimulator
import Foundation
import Testing

@Suite("Refund and fee arithmetic (cloud-apis.md §1.9)")
struct RefundCalculatorTests {
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    let day = 86_400.0

    func input(paid: Int64 = 365_000, daysUsed: Double, termDays: Double = 365, termMonths: Int = 12, used: Int = 0) -> RefundCalculator.Input {
        .init(paidCents: paid, effectiveAt: start, expireAt: start.addingTimeInterval(termDays * day), termMonths: termMonths,
              now: start.addingTimeInterval(daysUsed * day), fullRefundsUsed: used)
    }

    @Test("within five days: everything back, no fee, counts as a full refund")
    func fiveDayWindow() {
        let outcome = RefundCalculator().calculate(input(daysUsed: 4.9))
        #expect(outcome == .init(refundCents: 365_000, consumedCents: 0, feeCents: 0, fullRefund: true, feePercent: 0))
    }

    @Test("five-day window with the yearly quota used up: normal consumption and fee")
    func quotaUsedUp() {
        let outcome = RefundCalculator(fullRefundsPerYear: 10).calculate(input(daysUsed: 2, used: 10))
        // 48 h of 8760 h used: 365000 × 48 / 8760 = 2000 cents consumed; fee 10 % of the remaining 363000.
        #expect(outcome.fullRefund == false)
        #expect(outcome.consumedCents == 2000)
        #expect(outcome.feeCents == 36_300)
        #expect(outcome.refundCents == 365_000 - 2000 - 36_300)
    }

    @Test("one-year term after 100 days: consumed pro rata by whole hours, 10 % fee")
    func oneYear() {
        let outcome = RefundCalculator().calculate(input(daysUsed: 100.04))  // 2400.96 h → 2400 h
        #expect(outcome.consumedCents == 100_000)
        #expect(outcome.feePercent == 10)
        #expect(outcome.feeCents == 26_500)
        #expect(outcome.refundCents == 238_500)
    }

    @Test("fee tiers by term and time used", arguments: [
        (36, 0.5, 15), (36, 1.5, 10), (36, 2.5, 5), (24, 0.9, 15), (24, 1.1, 10), (12, 0.5, 10), (1, 0.01, 10),
    ])
    func tiers(termMonths: Int, usedYears: Double, percent: Int) {
        #expect(RefundCalculator.feePercent(termMonths: termMonths, usedYears: usedYears) == percent)
    }

    @Test("fee on the payment can exceed what is left: refund floors at zero")
    func floorsAtZero() {
        let calculator = RefundCalculator(feeBase: .paid)
        let outcome = calculator.calculate(input(daysUsed: 360))
        #expect(outcome.refundCents == 0)
        #expect(outcome.consumedCents + outcome.feeCents > 365_000)
    }

    @Test("not yet effective: full amount back, no fee, no full refund used")
    func notEffective() {
        let outcome = RefundCalculator().calculate(input(daysUsed: -1))
        #expect(outcome == .init(refundCents: 365_000, consumedCents: 0, feeCents: 0, fullRefund: false, feePercent: 0))
    }

    @Test("past the end of the term nothing is refunded")
    func pastTerm() {
        let outcome = RefundCalculator().calculate(input(daysUsed: 400))
        #expect(outcome.consumedCents == 365_000)
        #expect(outcome.refundCents == 0)
    }
}
