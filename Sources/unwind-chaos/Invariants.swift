import Foundation
import Postgres

/// What the checks found: counters for the report and the first examples of each kind of violation.
struct Findings {
    var counters: [String: Int] = [:]
    private(set) var violations: [String: [String]] = [:]

    mutating func count(_ name: String, by amount: Int = 1) { counters[name, default: 0] += amount }

    mutating func violation(_ kind: String, _ example: String) {
        count(kind)
        if violations[kind, default: []].count < 5 { violations[kind, default: []].append(example) }
    }

    var violationCount: Int { violations.keys.reduce(0) { $0 + (counters[$1] ?? 0) } }
}

/// The invariants of a chaos run, checked from the sources of truth: the simulator's ledger and state (what
/// happened in the cloud) and the engine's tables (what the engine says happened).
///
/// The queries here are read-only audits of the engine's tables for this test program; the product's SQL
/// lives in UnwindStore.
struct InvariantChecker {
    var accounts: [SeededAccount]

    // MARK: Workflows reached the state their account calls for

    func checkOutcomes(_ connection: PostgresConnection, into findings: inout Findings) throws {
        let rows = try connection.query("""
            SELECT id::text AS id, state, input->>'profile' AS profile, error->>'code' AS code FROM workflows
            """).rows
        var byProfile: [String: [(id: String, state: String, code: String?)]] = [:]
        for row in rows {
            byProfile[try row.decode("profile", as: String?.self) ?? "", default: []].append(
                (try row.decode("id"), try row.decode("state"), try row.decode("code", as: String?.self)))
        }
        findings.counters["workflows"] = rows.count
        for account in accounts {
            let workflows = byProfile[account.name] ?? []
            guard workflows.count == 1, let workflow = workflows.first else {
                findings.violation("lost or duplicated workflows", "\(account.name): \(workflows.count) workflows")
                continue
            }
            findings.count("state \(workflow.state)")
            let expected = account.expectation
            if workflow.state != expected.state || (expected.errorCode != nil && workflow.code != expected.errorCode) {
                let what = ["succeeded", "compensated", "failed", "compensation_failed", "cancelled"].contains(workflow.state)
                    ? "workflows in an unexpected final state" : "lost workflows (never finished)"
                findings.violation(what, "\(account.name) (\(workflow.id)): \(workflow.state) \(workflow.code ?? ""), expected \(expected.state) \(expected.errorCode ?? "")")
            }
        }
    }

    // MARK: The cloud: everything removed, nothing twice, nothing out of order

    func checkLedger(_ ledger: [[String: Any]], into findings: inout Findings) {
        var changed: [String: Int] = [:]
        var accountByDomain: [String: SeededAccount] = [:]
        for account in accounts { accountByDomain[account.domainID] = account }
        struct Order { var lastQuotaChange = -1, firstPackageTouch = Int.max, lastServerChange = -1, firstEndpointTouch = Int.max }
        var orders: [String: Order] = [:]

        for entry in ledger {
            let sequence = entry["sequence"] as? Int ?? 0
            let domain = entry["account"] as? String ?? ""
            let outcome = entry["outcome"] as? String ?? ""
            let api = entry["api"] as? String ?? ""
            findings.count("cloud mutating requests")
            if outcome == "fault" { findings.count("injected faults (mutating requests)") }
            if entry["status"] as? Int == 429 { findings.count("throttled (429) mutating requests") }
            if entry["response_dropped"] as? Bool == true { findings.count("responses dropped after the change") }
            let effects = entry["effects"] as? [[String: Any]] ?? []
            for effect in effects {
                let action = effect["action"] as? String ?? ""
                if effect["changed"] as? Bool == true {
                    changed["\(domain)/\(effect["resource_id"] ?? "")/\(action)", default: 0] += 1
                }
                if action == "refused_package_rule" {
                    findings.violation("packages touched before the quotas were gone", "ledger #\(sequence) \(domain): \(effect["resource_id"] ?? "")")
                }
            }
            guard let account = accountByDomain[domain] else { continue }
            let ids = Set(entry["resource_ids"] as? [String] ?? [])
            let changedSomething = effects.contains { $0["changed"] as? Bool == true }
            var order = orders[domain] ?? Order()
            if changedSomething && !ids.isDisjoint(with: account.quotas) { order.lastQuotaChange = max(order.lastQuotaChange, sequence) }
            if !ids.isDisjoint(with: account.packages) { order.firstPackageTouch = min(order.firstPackageTouch, sequence) }
            if changedSomething && !ids.isDisjoint(with: account.servers) { order.lastServerChange = max(order.lastServerChange, sequence) }
            if api.hasPrefix("vpcep.") && !ids.isDisjoint(with: account.endpoints) || api == "vpcep.delete_endpoint" {
                order.firstEndpointTouch = min(order.firstEndpointTouch, sequence)
            }
            orders[domain] = order
        }
        for (key, count) in changed where count > 1 {
            findings.violation("changes applied twice in the cloud", "\(key): \(count) times")
        }
        for (domain, order) in orders {
            let name = accountByDomain[domain]?.name ?? domain
            if order.firstPackageTouch < order.lastQuotaChange {
                findings.violation("packages touched before the quotas were gone", "\(name): package request #\(order.firstPackageTouch) before quota change #\(order.lastQuotaChange)")
            }
            if order.firstEndpointTouch < order.lastServerChange {
                findings.violation("VPC endpoints touched before the collection servers were gone", "\(name): endpoint request #\(order.firstEndpointTouch) before server change #\(order.lastServerChange)")
            }
        }
    }

    /// Nothing billable is left in accounts whose teardown succeeded; an account whose teardown compensated is
    /// as it was (its quota in use, auto-renew as seeded).
    func checkCloudState(_ state: [String: Any], into findings: inout Findings) {
        var byName: [String: [String: Any]] = [:]
        for account in state["accounts"] as? [[String: Any]] ?? [] {
            if let name = account["name"] as? String { byName[name] = account }
        }
        for account in accounts {
            guard let cloud = byName[account.name] else {
                findings.violation("accounts missing from the simulator", account.name)
                continue
            }
            let prepaid = Dictionary(
                (cloud["prepaid_resources"] as? [[String: Any]] ?? []).compactMap { resource in
                    (resource["resource_id"] as? String).map { ($0, resource) }
                }, uniquingKeysWith: { first, _ in first })
            let secmaster = (cloud["secmaster_resources"] as? [[String: Any]] ?? []).compactMap { $0["resource_id"] as? String }
            if account.expectation.state != "succeeded" {
                for quota in account.quotas {
                    let resource = prepaid[quota]
                    let prepaidQuota = resource != nil
                    if prepaidQuota && (resource?["status"] as? Int != 2 || resource?["auto_renew"] as? Bool != account.seededAutoRenew[quota]) {
                        findings.violation("compensated accounts not restored", "\(account.name): quota \(quota) status \(resource?["status"] ?? "nil") auto_renew \(resource?["auto_renew"] ?? "nil")")
                    }
                }
                continue
            }
            for id in secmaster {
                findings.violation("SecMaster resources left behind", "\(account.name): \(id)")
            }
            for server in cloud["servers"] as? [[String: Any]] ?? [] {
                let id = server["id"] as? String ?? ""
                let status = server["status"] as? String ?? ""
                let expired = prepaid[id]?["status"] as? Int == 5
                if status != "DELETED" && server["deleted_at"] is NSNull && !expired {
                    findings.violation("collection servers left behind", "\(account.name): \(id) \(status)")
                } else if expired && status != "DELETED" {
                    findings.count("expired yearly/monthly servers left for BSS to release")
                } else {
                    findings.count("servers released")
                }
            }
            for endpoint in cloud["endpoints"] as? [[String: Any]] ?? [] {
                let status = endpoint["status"] as? String ?? ""
                if status != "deleted" && status != "deleting" {
                    findings.violation("VPC endpoints left behind", "\(account.name): \(endpoint["id"] ?? "") \(status)")
                }
            }
        }
    }

    // MARK: The engine's history: fenced, complete, nothing missing

    private static let attemptStarts: Set<String> = ["attempt_started", "attempt_resumed"]
    /// Events that end an attempt. A lease expiry is followed by attempt_failed/step_failed for the same
    /// attempt, so an end may repeat the token of the attempt that just ended.
    private static let attemptEnds: Set<String> = [
        "step_succeeded", "attempt_failed", "step_failed", "step_waiting", "lease_expired", "lease_released",
        "compensation_attempt_failed", "compensation_failed", "step_compensated",
    ]
    private static let workflowEnds: [String: String] = [
        "workflow_succeeded": "succeeded", "workflow_compensated": "compensated", "workflow_failed": "failed",
        "workflow_compensation_failed": "compensation_failed", "workflow_cancelled": "cancelled",
    ]

    func checkHistory(_ connection: PostgresConnection, into findings: inout Findings) throws {
        let states = Dictionary(uniqueKeysWithValues: try connection.query("SELECT id::text AS id, state FROM workflows").rows.map {
            (try $0.decode("id", as: String.self), try $0.decode("state", as: String.self))
        })
        let rows = try connection.query("""
            SELECT id, workflow_id::text AS workflow_id, step_id, phase, fencing_token, kind, worker_id,
                   details->>'code' AS code
            FROM events ORDER BY workflow_id, id
            """).rows
        findings.counters["events"] = rows.count

        struct StepTrack { var open: (token: Int64, worker: String?)?; var lastClosed: Int64? }
        var currentWorkflow: String?
        var steps: [String: StepTrack] = [:]
        var firstKind: String?
        var lastWorkflowEnd: String?

        func finishWorkflow(_ id: String, into findings: inout Findings) {
            if firstKind != "workflow_submitted" {
                findings.violation("histories not starting with workflow_submitted", "\(id): starts with \(firstKind ?? "nothing")")
            }
            for (step, track) in steps where track.open != nil {
                findings.violation("attempts without an end", "\(id) step \(step) token \(track.open!.token)")
            }
            let state = states[id] ?? "?"
            if let end = lastWorkflowEnd, Self.workflowEnds[end] != state {
                findings.violation("final states not matching the history", "\(id): state \(state), last event \(end)")
            } else if lastWorkflowEnd == nil, Self.workflowEnds.values.contains(state) {
                findings.violation("final states not matching the history", "\(id): state \(state) without its event")
            }
        }

        for row in rows {
            let workflow: String = try row.decode("workflow_id")
            if workflow != currentWorkflow {
                if let currentWorkflow { finishWorkflow(currentWorkflow, into: &findings) }
                currentWorkflow = workflow
                steps = [:]
                firstKind = nil
                lastWorkflowEnd = nil
            }
            let kind: String = try row.decode("kind")
            if firstKind == nil { firstKind = kind }
            if Self.workflowEnds[kind] != nil { lastWorkflowEnd = kind }
            guard let step = try row.decode("step_id", as: String?.self) else { continue }
            let key = step + "/" + (try row.decode("phase", as: String?.self) ?? "")
            let token = try row.decode("fencing_token", as: Int64?.self)
            let worker = try row.decode("worker_id", as: String?.self)
            var track = steps[key] ?? StepTrack()
            if Self.attemptStarts.contains(kind) {
                findings.count("attempts")
                if let open = track.open {
                    findings.violation("attempts running on two workers at once", "\(workflow) step \(step): token \(token ?? -1) on \(worker ?? "?") while token \(open.token) on \(open.worker ?? "?") had no end")
                }
                track.open = (token ?? -1, worker)
            } else if Self.attemptEnds.contains(kind) {
                if kind == "lease_expired" { findings.count("leases expired and rescued") }
                if kind == "lease_released" { findings.count("leases handed back (unreadable rows)") }
                if kind == "attempt_failed", try row.decode("code", as: String?.self) == "worker_stopped" {
                    findings.count("attempts ended by a worker's shutdown")
                }
                if let open = track.open, open.token == token {
                    track.open = nil
                    track.lastClosed = token
                } else if track.open == nil, track.lastClosed == token {
                    // The second event about an attempt that already ended (lease_expired, then attempt_failed).
                } else {
                    findings.violation("attempt ends that match no running attempt", "\(workflow) step \(step): \(kind) token \(token ?? -1), running \(track.open.map { "\($0.token)" } ?? "none")")
                }
            } else if kind == "checkpoint" {
                if track.open?.token != token {
                    findings.violation("checkpoints written outside their attempt", "\(workflow) step \(step) token \(token ?? -1)")
                }
            } else if kind == "stale_write_rejected" {
                findings.count("stale results refused by fencing")
            }
            steps[key] = track
        }
        if let currentWorkflow { finishWorkflow(currentWorkflow, into: &findings) }

        // Every step's final state is backed by its event.
        let unbacked = try connection.query("""
            SELECT s.workflow_id::text AS workflow_id, s.step_id, s.state FROM steps s
            WHERE s.state IN ('succeeded', 'compensated', 'failed')
              AND NOT EXISTS (SELECT 1 FROM events e WHERE e.workflow_id = s.workflow_id AND e.step_id = s.step_id
                              AND e.kind = CASE s.state WHEN 'succeeded' THEN 'step_succeeded'
                                                        WHEN 'compensated' THEN 'step_compensated'
                                                        ELSE 'step_failed' END)
            """).rows
        for row in unbacked {
            findings.violation("step states without their event", "\(try row.decode("workflow_id", as: String.self)) \(try row.decode("step_id", as: String.self)) \(try row.decode("state", as: String.self))")
        }
    }
}
