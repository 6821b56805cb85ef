import Testing
import UnwindCore

@Suite("Retry policy arithmetic")
struct RetryPolicyTests {
    let exact = RetryPolicy(maxAttempts: 10, initialInterval: .seconds(1), multiplier: 2, maxInterval: .seconds(30), jitter: .none)

    @Test func firstRetryWaitsTheInitialInterval() {
        #expect(exact.delay(afterAttempt: 1, random: 0.9) == .seconds(1))
        // Nonsense attempt numbers behave like the first attempt instead of shrinking the delay.
        #expect(exact.delay(afterAttempt: 0, random: 0.9) == .seconds(1))
        #expect(exact.delay(afterAttempt: -3, random: 0.9) == .seconds(1))
    }

    @Test func growsExponentiallyUntilTheCap() {
        let delays = (1...7).map { exact.delay(afterAttempt: $0, random: 0) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
        // Huge attempt numbers overflow pow() to infinity; the cap still applies.
        #expect(exact.delay(afterAttempt: 5000, random: 0) == .seconds(30))
    }

    @Test func fractionalMultiplier() {
        let policy = RetryPolicy(initialInterval: .milliseconds(500), multiplier: 1.5, maxInterval: .seconds(60), jitter: .none)
        #expect(policy.delay(afterAttempt: 3, random: 0) == .milliseconds(1125))
    }

    @Test(arguments: [0.0, 0.25, 0.5, 0.999_999, 1.0, -1.0, 7.0, Double.nan])
    func fullJitterStaysWithinBounds(random: Double) {
        var policy = exact
        policy.jitter = .full
        for attempt in 1...8 {
            let delay = policy.delay(afterAttempt: attempt, random: random)
            let ceiling = exact.delay(afterAttempt: attempt, random: 0)
            #expect(delay >= .zero)
            #expect(delay <= ceiling)
        }
    }

    @Test func fullJitterScalesLinearlyWithRandom() {
        var policy = exact
        policy.jitter = .full
        #expect(policy.delay(afterAttempt: 3, random: 0) == .zero)
        #expect(policy.delay(afterAttempt: 3, random: 0.5) == .seconds(2))
        #expect(policy.delay(afterAttempt: 6, random: 0.5) == .seconds(15))
    }

    @Test func nonRetryableCodes() {
        let policy = RetryPolicy(nonRetryableErrorCodes: ["CBC.30050010"])
        #expect(!policy.isRetryable(errorCode: "CBC.30050010"))
        #expect(policy.isRetryable(errorCode: "CBC.99"))
        #expect(policy.isRetryable(errorCode: nil))
    }

    @Test func defaults() {
        #expect(RetryPolicy.default.maxAttempts == 5)
        #expect(RetryPolicy.default.initialInterval == .seconds(1))
        #expect(RetryPolicy.default.multiplier == 2)
        #expect(RetryPolicy.default.maxInterval == .seconds(300))
        #expect(RetryPolicy.default.jitter == .full)
        #expect(RetryPolicy.default.nonRetryableErrorCodes.isEmpty)
    }
}

@Suite("Duration parsing")
struct DurationParsingTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("2s", .seconds(2)), ("1m", .seconds(60)), ("1h", .seconds(3600)),
        ("1m30s", .seconds(90)), ("1h2m3s4ms", .milliseconds(3_723_004)), ("30", .seconds(30)), ("0.5", .milliseconds(500)),
        ("1.5s", .milliseconds(1500)), ("2592000", .seconds(2_592_000)), (" 10s ", .seconds(10)),
    ])
    func valid(_ text: String, _ expected: Duration) {
        #expect(Duration(definitionText: text) == expected)
    }

    @Test(arguments: ["", "0", "0s", "-1s", "-5", "2592001", "721h", "1d", "1m1m", "30s1m", "1m90s", "1h60m", "1s1000ms", "ms", "1 m", "1.2.3", "inf", "nan", "1e3", "0.0001", "0.0005", "0.9ms"])
    func invalid(_ text: String) {
        #expect(Duration(definitionText: text) == nil)
    }

    @Test func formatting() {
        #expect(Duration.seconds(90).definitionText == "1m30s")
        #expect(Duration.milliseconds(500).definitionText == "500ms")
        #expect(Duration.seconds(7200).definitionText == "2h")
        #expect(Duration.milliseconds(1500).timeInterval == 1.5)
    }
}
