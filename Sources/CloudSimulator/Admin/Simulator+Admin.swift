import Foundation

/// The admin API under `/_sim/`: never mixed with cloud paths, needs no signature (loopback only), optionally
/// guarded by a token the HTTP layer checks.
extension Simulator {
    static func adminError(_ status: Int, _ message: String) -> SimulatorReply {
        SimulatorReply(status: status, body: ["error_code": .string("SIM.ADMIN.\(status)"), "error_msg": .string(message)])
    }

    public func handleAdmin(method: String, path: String, query: String, body: [UInt8]) -> SimulatorReply {
        let parts = path.split(separator: "/").dropFirst().map(String.init)  // drop "_sim"
        let queryPairs = Dictionary(parseQuery(query), uniquingKeysWith: { first, _ in first })
        let json: JSON?
        // Not a hot path; seeds and fault rules posted here are read as seed files are (see `parseWithJSONDecoder`).
        do { json = try JSON.parseWithJSONDecoder(body) } catch { return Self.adminError(400, "the request body is not valid JSON") }

        switch (method, parts) {
        case ("GET", ["health"]):
            let reading = clock.reading()
            return SimulatorReply(status: 200, body: ["status": "ok", "time": .string(ISOTime.format(reading.now)), "accounts": .int(Int64(snapshot().accounts.count))])

        case ("GET", ["ledger"]):
            var entries = ledger.all()
            if let account = queryPairs["account"] {
                // An account is named by its domain id or its seed name.
                let domain = snapshot().accounts.first { $0.name == account }?.domainID ?? account
                entries = entries.filter { $0.account == domain }
            }
            if let api = queryPairs["api"] { entries = entries.filter { $0.api == api } }
            if let outcome = queryPairs["outcome"] { entries = entries.filter { $0.outcome.rawValue == outcome } }
            if let text = queryPairs["since"] {
                guard let since = Int(text), since >= 0 else { return Self.adminError(400, "since: expected a ledger sequence number (0 or more), got '\(text)'") }
                entries = entries.filter { $0.sequence > since }
            }
            let money = entries.reduce(into: LedgerMoney()) {
                $0.refundCents += $1.money.refundCents; $0.feeCents += $1.money.feeCents
                $0.consumedCents += $1.money.consumedCents; $0.fullRefunds += $1.money.fullRefunds
            }
            return SimulatorReply(status: 200, body: [
                "count": .int(Int64(entries.count)),
                "totals": [
                    "refund": .money(money.refundCents), "fee": .money(money.feeCents), "consumed": .money(money.consumedCents),
                    "refund_cents": .int(money.refundCents), "fee_cents": .int(money.feeCents), "consumed_cents": .int(money.consumedCents),
                    "full_refunds": .int(Int64(money.fullRefunds)),
                ],
                "entries": .array(entries.map(\.json)),
            ])

        case ("GET", ["state"]):
            let state = snapshot()
            let now = clock.now()
            let accounts = state.accounts.filter { queryPairs["account"] == nil || $0.domainID == queryPairs["account"] || $0.name == queryPairs["account"] }
            return SimulatorReply(status: 200, body: [
                "time": .string(ISOTime.format(now)),
                "settings": state.settings.json,
                "accounts": .array(accounts.map { StateDump.account($0, settings: state.settings, now: now) }),
            ])

        case ("GET", ["clock"]):
            return SimulatorReply(status: 200, body: clockJSON())

        case ("POST", ["clock"]):
            guard let json, let fields = json.objectValue else { return Self.adminError(400, "expected an object such as {\"advance_seconds\": 3600}") }
            let known: Set<String> = ["set", "advance_seconds", "freeze", "scale"]
            if let unknown = fields.map(\.0).sorted().first(where: { !known.contains($0) }) {
                return Self.adminError(400, "\(unknown): unknown field; use set, advance_seconds, freeze or scale")
            }
            // Everything is checked before anything changes: a bad field leaves the clock as it was.
            var setTo: Date?, advanceBy: Double?, frozen: Bool?, newScale: Double?
            if let set = json["set"] {
                guard let text = set.stringValue, let date = ISOTime.parse(text) else { return Self.adminError(400, "set: expected an ISO 8601 time such as 2026-11-29T12:00:00Z") }
                setTo = date
            }
            if let advance = json["advance_seconds"] {
                guard let seconds = advance.doubleValue, seconds >= 0, seconds <= SimulatedClock.maxAdvanceSeconds else {
                    return Self.adminError(400, "advance_seconds: expected a number from 0 (time never goes back) to \(Int(SimulatedClock.maxAdvanceSeconds)) (100 years)")
                }
                advanceBy = seconds
            }
            if let freeze = json["freeze"] {
                guard let flag = freeze.boolValue else { return Self.adminError(400, "freeze: expected true or false") }
                frozen = flag
            }
            if let scale = json["scale"] {
                guard let value = scale.doubleValue, value > 0, value <= SimulatedClock.maxScale else {
                    return Self.adminError(400, "scale: expected a number greater than 0 and at most \(Int(SimulatedClock.maxScale))")
                }
                newScale = value
            }
            if let setTo { clock.set(to: setTo) }
            if let advanceBy { clock.advance(by: advanceBy) }
            if let frozen { clock.setFrozen(frozen) }
            if let newScale { clock.setScale(newScale) }
            logger.info("clock changed", metadata: ["clock.now": "\(ISOTime.format(clock.now()))"])
            return SimulatorReply(status: 200, body: clockJSON())

        case ("GET", ["faults"]):
            return SimulatorReply(status: 200, body: ["rules": .array(withCore { $0.faults.rules.map(\.json) })])

        case ("POST", ["faults"]):
            guard let json else { return Self.adminError(400, "expected a fault rule object or {\"rules\": [...]}") }
            let items = json["rules"]?.arrayValue ?? [json]
            var rules: [FaultRule] = []
            for (index, item) in items.enumerated() {
                do { rules.append(try FaultRule.parse(item, id: 0)) } catch {
                    return Self.adminError(400, "rules[\(index)].\(error.description)")
                }
            }
            let added = withCore { core in rules.map { core.faults.add($0) } }
            return SimulatorReply(status: 201, body: ["rules": .array(added.map(\.json))])

        case ("DELETE", ["faults"]):
            withCore { $0.faults.removeAll() }
            return SimulatorReply(status: 204)

        case ("DELETE", let p) where p.count == 2 && p[0] == "faults":
            guard let id = Int(p[1]) else { return Self.adminError(400, "fault id must be an integer") }
            return withCore { $0.faults.remove(id: id) } ? SimulatorReply(status: 204) : Self.adminError(404, "no fault rule \(id)")

        case ("POST", ["seed"]):
            guard !body.isEmpty else { return Self.adminError(400, "POST the seed JSON as the body (or POST /_sim/seed/reset)") }
            do { try load(seedData: Data(body), name: "POST /_sim/seed") } catch { return Self.adminError(400, error.description) }
            return SimulatorReply(status: 200, body: ["status": "loaded", "accounts": .int(Int64(snapshot().accounts.count))])

        case ("POST", ["seed", "reset"]):
            let (data, name) = withCore { ($0.seedData, $0.seedName) }
            guard let data else { return Self.adminError(409, "no seed to reset to") }
            do { try load(seedData: data, name: name) } catch { return Self.adminError(400, error.description) }
            return SimulatorReply(status: 200, body: ["status": "reset", "accounts": .int(Int64(snapshot().accounts.count))])

        default:
            return Self.adminError(404, "unknown admin endpoint \(method) \(path); see docs/cloudsim.md")
        }
    }

    private func clockJSON() -> JSON {
        let reading = clock.reading()
        return ["now": .string(ISOTime.format(reading.now)), "now_ms": .int(ISOTime.milliseconds(reading.now)), "scale": .double(reading.scale), "frozen": .bool(reading.frozen)]
    }

    private func parseQuery(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }
}
