import CloudSimulator
import Foundation
import Testing

@Suite("Fault rules and throttling")
struct FaultAndThrottleTests {
    @Test("a scripted rule fires on the next N matching calls, after skipping")
    func scripted() throws {
        var injector = FaultInjector(rules: [try FaultRule.parse(["api": "ecs.delete_servers", "kind": "error", "status": 503, "count": 2, "skip": 1], id: 0)])
        var rng = SplitMix64(seed: 1)
        func fire(_ api: CloudAPI) -> Bool {
            let fired = injector.fire(api: api, accountDomainID: "d", accountName: "a", rng: &rng)
            injector.spend(fired)
            return !fired.isEmpty
        }
        #expect(fire(.ecsShowJob) == false)  // other API: does not match and does not count
        #expect(fire(.ecsDeleteServers) == false)  // skipped
        #expect(fire(.ecsDeleteServers) == true)
        #expect(fire(.ecsDeleteServers) == true)
        #expect(fire(.ecsDeleteServers) == false)
        #expect(injector.rules.isEmpty)
    }

    @Test("once_per_resource: every server's deletion job fails once, then goes through")
    func oncePerResource() throws {
        var injector = FaultInjector(rules: [try FaultRule.parse(["api": "ecs.delete_servers", "kind": "job_fail", "once_per_resource": true], id: 0)])
        var rng = SplitMix64(seed: 1)
        func fire(_ ids: [String]) -> Bool {
            let fired = injector.fire(api: .ecsDeleteServers, accountDomainID: "d", accountName: "a", resourceIDs: ids, rng: &rng)
            injector.spend(fired, resourceIDs: ids)
            return !fired.isEmpty
        }
        #expect(fire(["s1"]))
        #expect(!fire(["s1"]), "s1 failed once already")
        #expect(fire(["s1", "s2"]), "s2 has not failed yet")
        #expect(!fire(["s2", "s1"]))
        #expect(injector.rules.first?.fired == 2)
        #expect(throws: FaultRuleError.self) { try FaultRule.parse(["api": "*", "kind": "reset", "once_per_resource": "yes"], id: 0) }
    }

    @Test("probabilistic rules are reproducible with the same random seed")
    func probability() throws {
        func run(seed: UInt64) throws -> [Bool] {
            var injector = FaultInjector(rules: [try FaultRule.parse(["api": "*", "kind": "reset", "probability": 0.3], id: 0)])
            var rng = SplitMix64(seed: seed)
            return (0..<200).map { _ in !injector.fire(api: .bssListOrders, accountDomainID: "d", accountName: "a", rng: &rng).isEmpty }
        }
        let a = try run(seed: 5), b = try run(seed: 5)
        #expect(a == b)
        let rate = Double(a.filter { $0 }.count) / 200
        #expect(rate > 0.15 && rate < 0.45)
    }

    @Test("a rule counts down only on a call it took effect on; one that can never fire is refused")
    func spentOnlyWhenEffective() throws {
        var injector = FaultInjector(rules: [
            try FaultRule.parse(["api": "bss.unsubscribe", "kind": "drop_after_apply", "count": 1], id: 0),
            try FaultRule.parse(["api": "bss.unsubscribe", "kind": "error", "status": 503, "count": 1], id: 0),
        ])
        var rng = SplitMix64(seed: 1)
        // Both match the first call; the 503 answers it, so nothing was applied and the drop did not happen.
        let first = injector.fire(api: .bssUnsubscribe, accountDomainID: "d", accountName: "a", rng: &rng)
        #expect(first.count == 2)
        injector.spend(first.filter { $0.kind == .error })
        #expect(injector.rules.map(\.kind) == [.dropAfterApply], "the drop rule is still there")
        #expect(injector.fire(api: .bssUnsubscribe, accountDomainID: "d", accountName: "a", rng: &rng).map(\.kind) == [.dropAfterApply])
        for (api, kind) in [("vpcep.list_endpoints", "drop_after_apply"), ("bss.unsubscribe", "stale_read"), ("vpcep.*", "job_fail")] {
            #expect(throws: FaultRuleError.self, "\(kind) on \(api)") { try FaultRule.parse(["api": .string(api), "kind": .string(kind)], id: 0) }
        }
        _ = try FaultRule.parse(["api": "*", "kind": "drop_after_apply"], id: 0)  // a wildcard naming some change is fine
    }

    @Test("wildcards, account filter and kinds that cannot apply")
    func matching() throws {
        let rule = try FaultRule.parse(["api": "bss.*", "account": "acme", "kind": "drop_after_apply"], id: 0)
        #expect(rule.matches(api: "bss.unsubscribe", account: "dom", accountName: "acme"))
        #expect(!rule.matches(api: "ecs.delete_servers", account: "dom", accountName: "acme"))
        #expect(!rule.matches(api: "bss.unsubscribe", account: "dom", accountName: "other"))
        var injector = FaultInjector(rules: [rule])
        var rng = SplitMix64(seed: 1)
        let onRead = injector.fire(api: .bssListOrders, accountDomainID: "dom", accountName: "acme", rng: &rng)
        #expect(onRead.isEmpty)  // a read cannot drop an applied change
        let onChange = injector.fire(api: .bssUnsubscribe, accountDomainID: "dom", accountName: "acme", rng: &rng)
        #expect(!onChange.isEmpty)
    }

    @Test("invalid rules are refused with the field named")
    func invalid() {
        #expect(throws: FaultRuleError(field: "api", problem: "unknown API 'ecs.nuke'; known: \(CloudAPI.allCases.map(\.name).joined(separator: ", "))")) {
            try FaultRule.parse(["api": "ecs.nuke", "kind": "reset"], id: 0)
        }
        #expect(throws: FaultRuleError.self) { try FaultRule.parse(["api": "*", "kind": "error"], id: 0) }
        #expect(throws: FaultRuleError.self) { try FaultRule.parse(["api": "*", "kind": "slow"], id: 0) }
        #expect(throws: FaultRuleError.self) { try FaultRule.parse(["api": "*", "kind": "reset", "probability": 2], id: 0) }
    }

    @Test("token bucket: burst up to the limit, refills with simulated time, per account and API")
    func rateLimiter() {
        var limiter = RateLimiter()
        let t0 = Date(timeIntervalSince1970: 0)
        let results = [
            limiter.acquire(account: "a", api: "x", limitPerMinute: 2, now: t0),
            limiter.acquire(account: "a", api: "x", limitPerMinute: 2, now: t0),
            limiter.acquire(account: "a", api: "x", limitPerMinute: 2, now: t0),
            limiter.acquire(account: "b", api: "x", limitPerMinute: 2, now: t0),
            limiter.acquire(account: "a", api: "y", limitPerMinute: 2, now: t0),
            limiter.acquire(account: "a", api: "x", limitPerMinute: 2, now: t0.addingTimeInterval(30)),
        ]
        #expect(results == [nil, nil, 30, nil, nil, nil])
    }

    @Test("replay cache admits a signature once until it expires")
    func replay() {
        var cache = ReplayCache()
        let results = [
            cache.admit(signature: "s", expiresAt: 100, now: 10),
            cache.admit(signature: "s", expiresAt: 100, now: 50),
            cache.admit(signature: "s", expiresAt: 200, now: 101),
        ]
        #expect(results == [true, false, true])
    }

    @Test("simulated clock: frozen, advanced, scaled")
    func clock() {
        let clock = SimulatedClock(start: Date(timeIntervalSince1970: 1000), frozen: true)
        #expect(clock.now() == Date(timeIntervalSince1970: 1000))
        clock.advance(by: 3600)
        #expect(clock.now() == Date(timeIntervalSince1970: 4600))
        #expect(clock.realDuration(ofSimulated: 10) == nil)
        clock.setFrozen(false)
        clock.setScale(60)
        #expect(clock.realDuration(ofSimulated: 60) == 1)
        #expect(clock.now() >= Date(timeIntervalSince1970: 4600))
    }
}
