/// Decides which fault rules fire for a call. A value type: it lives inside the simulator's locked state and
/// draws from the simulator's seeded generator, so a run is reproducible.
public struct FaultInjector: Sendable, Equatable {
    public private(set) var rules: [FaultRule] = []
    private var nextID = 1

    public init(rules: [FaultRule] = []) {
        for rule in rules { add(rule) }
    }

    @discardableResult
    public mutating func add(_ rule: FaultRule) -> FaultRule {
        var stored = rule
        stored.id = nextID
        nextID += 1
        rules.append(stored)
        return stored
    }

    public mutating func removeAll() { rules.removeAll() }

    public mutating func remove(id: Int) -> Bool {
        let before = rules.count
        rules.removeAll { $0.id == id }
        return rules.count != before
    }

    /// The rules that would fire for this call. Kinds that cannot apply to the call (`job_fail` outside ECS delete,
    /// `stale_read` on a change, `drop_after_apply` on a read) never match. Nothing is counted yet: the caller
    /// reports with ``spend(_:resourceIDs:)`` the ones that took effect, so that a rule with a `count` is not used
    /// up on a call another rule answered (a drop after apply on a call a 503 rule refused applied nothing).
    public mutating func fire(
        api: CloudAPI, accountDomainID: String, accountName: String, resourceIDs: [String] = [], rng: inout SplitMix64
    ) -> [FaultRule] {
        var fired: [FaultRule] = []
        for index in rules.indices {
            let rule = rules[index]
            guard !rule.isSpent, rule.matches(api: api.name, account: accountDomainID, accountName: accountName), Self.applies(rule.kind, to: api) else { continue }
            if rules[index].skip > 0 {
                rules[index].skip -= 1
                continue
            }
            if rule.oncePerResource, !resourceIDs.isEmpty, resourceIDs.allSatisfy(rule.firedFor.contains) { continue }
            if let probability = rule.probability, rng.unit() >= probability { continue }
            fired.append(rule)
        }
        return fired
    }

    /// Counts the rules that took effect on a call (see ``fire(api:accountDomainID:accountName:resourceIDs:rng:)``)
    /// and drops the ones spent.
    public mutating func spend(_ effective: [FaultRule], resourceIDs: [String] = []) {
        guard !effective.isEmpty else { return }
        for rule in effective {
            guard let index = rules.firstIndex(where: { $0.id == rule.id }) else { continue }
            if let remaining = rules[index].remaining { rules[index].remaining = remaining - 1 }
            rules[index].fired += 1
            if rules[index].oncePerResource { rules[index].firedFor.formUnion(resourceIDs) }
        }
        rules.removeAll(where: \.isSpent)
    }

    static func applies(_ kind: FaultRule.Kind, to api: CloudAPI) -> Bool {
        switch kind {
        case .jobFail: api == .ecsDeleteServers
        case .staleRead: !api.isMutating
        case .dropAfterApply: api.isMutating
        case .error, .timeout, .reset, .slow: true
        }
    }
}
