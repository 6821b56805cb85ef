import CloudSimulator
import Foundation
import HummingbirdTesting
import Testing

@Suite("HTTP: fault injection and admin API", .serialized)
struct HTTPFaultAndAdminTests {
    let vpcep = "/v1/\(TestSeed.nodesProject)/vpc-endpoints"
    let ecs = "/v1/\(TestSeed.nodesProject)"

    func addFault(_ sim: SimHarness, _ rule: String) async throws {
        let reply = try await sim.admin(.post, "/_sim/faults", body: rule)
        #expect(reply.status == 201)
    }

    @Test("scripted errors: the next 2 calls to ECS delete return 503 in the ECS shape, then it works")
    func scriptedErrors() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            try await addFault(sim, #"{"api":"ecs.delete_servers","kind":"error","status":503,"count":2}"#)
            let body = #"{"servers":[{"id":"srv-payg-1"}]}"#
            let first = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: body)
            let second = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: body)
            let third = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: body)
            #expect([first.status, second.status, third.status] == [503, 503, 200] as [Int])
            #expect(first.json?["error"]?["code"] == "Ecs.0002")
            #expect(first.requestID != nil)
            #expect(sim.simulator.ledger.all().map(\.outcome) == [.fault, .fault, .applied])
            let rules = try await sim.admin(.get, "/_sim/faults")
            #expect(rules.json?["rules"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("reset: the connection is closed without a response and nothing is applied")
    func reset() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            try await addFault(sim, #"{"api":"vpcep.delete_endpoint","kind":"reset","count":1}"#)
            await #expect(throws: (any Error).self) {
                _ = try await sim.send(.delete, vpcep + "/ep-1", as: .nodes)
            }
            let shown = try await sim.send(.get, vpcep + "/ep-1", as: .nodes)
            #expect(shown.json?["status"] == "accepted")
            #expect(sim.simulator.ledger.all().first?.outcome == .fault)
        }
    }

    @Test("drop after apply: the change is made and recorded, the response is lost; the retry is a repeat")
    func dropAfterApply() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            try await addFault(sim, #"{"api":"vpcep.delete_endpoint","kind":"drop_after_apply","count":1}"#)
            await #expect(throws: (any Error).self) {
                _ = try await sim.send(.delete, vpcep + "/ep-1", as: .nodes)
            }
            let shown = try await sim.send(.get, vpcep + "/ep-1", as: .nodes)
            #expect(shown.json?["status"] == "deleting")
            let retry = try await sim.send(.delete, vpcep + "/ep-1", as: .nodes)
            #expect(retry.status == 204)
            let ledger = try await sim.admin(.get, "/_sim/ledger?api=vpcep.delete_endpoint")
            let entries = ledger.json?["entries"]?.arrayValue ?? []
            #expect(entries.map { $0["outcome"] } == ["applied", "repeat"])
            #expect(entries.first?["response_dropped"] == true)
            #expect(entries.map { $0["changed"] } == [true, false])
        }
    }

    @Test("timeout: no answer until the client gives up")
    func timeout() async throws {
        try await SimHarness.run(try TestSeed.simulator(settings: #"{"timeout_cap_seconds": 3}"#)) { sim in
            try await addFault(sim, #"{"api":"vpcep.list_endpoints","kind":"timeout","count":1}"#)
            let started = Date()
            await #expect(throws: (any Error).self) {
                _ = try await sim.send(.get, vpcep, as: .nodes, timeout: .seconds(1))
            }
            #expect(Date().timeIntervalSince(started) >= 0.9)
            #expect(try await sim.send(.get, vpcep, as: .nodes).status == 200)
        }
    }

    @Test("slow: the answer comes after the delay")
    func slow() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            try await addFault(sim, #"{"api":"vpcep.*","kind":"slow","delay_seconds":0.5,"count":1}"#)
            let started = Date()
            let reply = try await sim.send(.get, vpcep, as: .nodes)
            #expect(reply.status == 200)
            #expect(Date().timeIntervalSince(started) >= 0.5)
        }
    }

    @Test("stale read: a read right after a change shows the previous state")
    func staleRead() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            _ = try await sim.send(.delete, vpcep + "/ep-2", as: .nodes)
            try await addFault(sim, #"{"api":"vpcep.show_endpoint","kind":"stale_read","count":1}"#)
            let stale = try await sim.send(.get, vpcep + "/ep-2", as: .nodes)
            #expect(stale.json?["status"] == "accepted")
            #expect(stale.headers[.init("X-Sim-Stale-Read")!] == "true")
            let fresh = try await sim.send(.get, vpcep + "/ep-2", as: .nodes)
            #expect(fresh.json?["status"] == "deleting")
        }
    }

    @Test("job_fail: the ECS job fails and the server stays")
    func jobFail() async throws {
        try await SimHarness.run(try TestSeed.simulator(faults: #"[{"api":"ecs.delete_servers","kind":"job_fail","count":1}]"#)) { sim in
            let reply = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: #"{"servers":[{"id":"srv-payg-2"}]}"#)
            sim.simulator.clock.advance(by: 10)
            let job = try await sim.send(.get, ecs + "/jobs/\(reply.json?["job_id"]?.stringValue ?? "")", as: .nodes)
            #expect(job.json?["status"] == "FAIL")
            #expect(job.json?["error_code"] == "Ecs.0002")
            #expect(try await sim.send(.get, ecs + "/cloudservers/srv-payg-2", as: .nodes).json?["server"]?["status"] == "ACTIVE")
        }
    }

    @Test("injected 429 carries Retry-After; invalid rules are refused with the field named")
    func injected429AndInvalid() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            try await addFault(sim, #"{"api":"*","kind":"error","status":429,"count":1}"#)
            let limited = try await sim.send(.get, vpcep, as: .nodes)
            #expect(limited.status == 429)
            #expect(limited.errorCode == "APIGW.0308")
            #expect(limited.headers[.init("Retry-After")!] != nil)
            let invalid = try await sim.admin(.post, "/_sim/faults", body: #"{"api":"*","kind":"error"}"#)
            #expect(invalid.status == 400)
            #expect(invalid.json?["error_msg"]?.stringValue?.contains("status") == true)
            // A misspelt field would leave a rule firing on every call.
            let misspelt = try await sim.admin(.post, "/_sim/faults", body: #"{"api":"*","kind":"reset","cont":1}"#)
            #expect(misspelt.status == 400)
            #expect(misspelt.json?["error_msg"]?.stringValue?.contains("cont") == true, "\(misspelt.json.map { "\($0)" } ?? "")")
            // A listed rule can be posted back as it is.
            try await addFault(sim, #"{"api":"ecs.*","kind":"slow","delay_seconds":1,"count":1}"#)
            let listed = try await sim.admin(.get, "/_sim/faults")
            let rule = try #require(listed.json?["rules"]?.arrayValue?.first)
            let again = try await sim.admin(.post, "/_sim/faults", body: rule.serialized())
            #expect(again.status == 201, "\(again.json.map { "\($0)" } ?? "")")
        }
    }

    @Test("admin: health, state, clock, faults list/delete, seed load and reset, ledger totals")
    func admin() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let health = try await sim.admin(.get, "/_sim/health")
            #expect(health.status == 200)
            #expect(health.json?["status"] == "ok")
            #expect(health.requestID != nil)

            let before = try await sim.admin(.get, "/_sim/clock")
            #expect(before.json?["frozen"] == true)
            let advanced = try await sim.admin(.post, "/_sim/clock", body: #"{"advance_seconds": 3600}"#)
            #expect((advanced.json?["now_ms"]?.intValue ?? 0) - (before.json?["now_ms"]?.intValue ?? 0) == 3_600_000)
            let scaled = try await sim.admin(.post, "/_sim/clock", body: #"{"freeze": false, "scale": 60}"#)
            #expect(scaled.json?["scale"] == 60)
            #expect(scaled.json?["frozen"] == false)
            #expect(try await sim.admin(.post, "/_sim/clock", body: #"{"advance_seconds": -1}"#).status == 400)
            _ = try await sim.admin(.post, "/_sim/clock", body: #"{"freeze": true}"#)
            // A misspelt field is refused, and a bad field leaves the clock as it was (no half-applied change).
            let atFreeze = try await sim.admin(.get, "/_sim/clock")
            let misspelt = try await sim.admin(.post, "/_sim/clock", body: #"{"advance_second": 60}"#)
            #expect(misspelt.status == 400 && misspelt.json?["error_msg"]?.stringValue?.hasPrefix("advance_second: unknown field") == true)
            #expect(try await sim.admin(.post, "/_sim/clock", body: #"{"advance_seconds": 60, "scale": -1}"#).status == 400)
            #expect(try await sim.admin(.get, "/_sim/clock").json == atFreeze.json)
            #expect(try await sim.admin(.get, "/_sim/ledger?since=abc").status == 400)

            try await addFault(sim, #"{"api":"bss.*","kind":"reset","probability":0.5}"#)
            let rules = try await sim.admin(.get, "/_sim/faults")
            let id = rules.json?["rules"]?.arrayValue?.first?["id"]?.intValue ?? 0
            #expect(try await sim.admin(.delete, "/_sim/faults/\(id)").status == 204)
            #expect(try await sim.admin(.delete, "/_sim/faults/\(id)").status == 404)

            let unsubscribed = try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: .standard, body: #"{"resource_ids":["q-old"],"unsubscribe_type":1}"#)
            let firstOrder = unsubscribed.json?["order_ids"]?.arrayValue?.first?.stringValue
            let ledger = try await sim.admin(.get, "/_sim/ledger")
            #expect(ledger.json?["count"] == 1)
            #expect(ledger.json?["totals"]?["fee_cents"]?.intValue ?? 0 > 0)
            let state = try await sim.admin(.get, "/_sim/state?account=standard")
            #expect(state.json?["accounts"]?.arrayValue?.count == 1)
            #expect(state.json?["settings"]?["fee_base"] == "remaining")
            #expect(state.json?["settings"]?["rate_limits"]?["default"] == 600)
            #expect(state.json?["accounts"]?.arrayValue?.first?["prepaid_resources"]?.arrayValue?.contains { $0["unsubscribe_order_id"] != .null } == true)

            let reset = try await sim.admin(.post, "/_sim/seed/reset")
            #expect(reset.status == 200)
            #expect(try await sim.admin(.get, "/_sim/ledger").json?["count"] == 0)
            // The same request after a reset gets a new order id: ids are never handed out twice by one process.
            let again = try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: .standard, body: #"{"resource_ids":["q-old"],"unsubscribe_type":1}"#)
            let secondOrder = again.json?["order_ids"]?.arrayValue?.first?.stringValue
            #expect(firstOrder != nil && secondOrder != nil && firstOrder != secondOrder, "\(firstOrder ?? "-") \(secondOrder ?? "-")")
            let badSeed = try await sim.admin(.post, "/_sim/seed", body: #"{"accounts":[{"name":"x"}]}"#)
            #expect(badSeed.status == 400)
            #expect(badSeed.json?["error_msg"]?.stringValue?.contains("accounts[0].domain_id") == true)
            let newSeed = try await sim.admin(.post, "/_sim/seed", body: #"{"accounts":[{"name":"x","domain_id":"d","project_ids":["p"],"access_key":"AKX","secret_key":"SKX"}]}"#)
            #expect(newSeed.status == 200)
            #expect(try await sim.send(.get, vpcep, as: .nodes).status == 401)  // the old accounts are gone
            #expect(try await sim.admin(.get, "/_sim/nothing").status == 404)
            // A seed larger than a cloud request's 4 MB limit is still an admin request, answered as one.
            let padding = String(repeating: " ", count: 5 * 1024 * 1024)
            let bigSeed = try await sim.admin(.post, "/_sim/seed", body: #"{"accounts":[{"name":"y","domain_id":"d","project_ids":["p"],"access_key":"AKY","secret_key":"SKY"}]}"# + padding)
            #expect(bigSeed.status == 200, "\(bigSeed.json ?? .null)")
        }
    }

    @Test("admin token: required when configured")
    func adminToken() async throws {
        try await SimHarness.run(try TestSeed.simulator(), adminToken: "s3cret") { sim in
            let without = try await sim.admin(.get, "/_sim/health")
            let with = try await sim.admin(.get, "/_sim/health", token: "s3cret")
            #expect(without.status == 401)
            #expect(with.status == 200)
        }
    }
}
