import CloudSimulator
import Foundation
import Testing

@Suite("HTTP: BSS", .serialized)
struct HTTPBSSTests {
    func unsubscribe(_ sim: SimHarness, _ ids: [String], as account: SimHarness.Account = .standard) async throws -> SimHarness.Reply {
        let list = ids.map { "\"\($0)\"" }.joined(separator: ",")
        return try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: account,
                                  body: #"{"resource_ids":[\#(list)],"unsubscribe_type":1,"unsubscribe_reason_type":5}"#)
    }

    @Test("unsubscribe → order; details with commission/consumed; refund entries; order completes; repeats")
    func unsubscribeFlow() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let placed = try await unsubscribe(sim, ["q-old"])
            #expect(placed.status == 200)
            let orderID = try #require(placed.json?["order_ids"]?.arrayValue?.first?.stringValue)
            #expect(placed.json?["fail_resource_infos"] == nil)

            let details = try await sim.send(.get, "/v2/orders/customer-orders/details/\(orderID)", as: .standard)
            #expect(details.status == 200)
            let info = try #require(details.json?["order_info"])
            #expect(info["order_type"] == 4)
            #expect(info["status"] == 3)
            #expect(info["amount_info"]?["commission_amount"]?.doubleValue ?? 0 > 0)
            #expect(info["amount_info"]?["consumed_amount"]?.doubleValue ?? 0 > 0)
            #expect(details.json?["order_line_items"]?.arrayValue?.count == 1)

            let refunds = try await sim.send(.get, "/v2/orders/customer-orders/refund-orders?order_id=\(orderID)", as: .standard)
            let amounts = refunds.json?["refund_infos"]?.arrayValue?.compactMap { $0["amount"]?.doubleValue } ?? []
            #expect(amounts.count == 3)
            #expect(amounts.filter { $0 < 0 }.count == 1)
            #expect(refunds.json?["refund_infos"]?.arrayValue?.first?["base_order_id"]?.stringValue?.hasPrefix("CS") == true)

            let again = try await unsubscribe(sim, ["q-old"])
            #expect(again.status == 400)
            #expect(again.errorCode == "CBC.30050011")

            sim.simulator.clock.advance(by: 2.5)
            let pendingRefund = try await sim.send(.get, "/v2/orders/customer-orders?order_id=\(orderID)", as: .standard)
            #expect(pendingRefund.json?["order_infos"]?.arrayValue?.first?["status"] == 2)
            sim.simulator.clock.advance(by: 1)
            // Payment-time filters, and order_by in any case (the SDK documents it case-insensitive).
            func total(_ query: String) async throws -> JSON? {
                try await sim.send(.get, "/v2/orders/customer-orders?" + query, as: .standard).json?["total_count"]
            }
            #expect(try await total("payment_time_begin=2099-01-01T00:00:00Z") == 0)
            #expect(try await total("payment_time_end=2099-01-01T00:00:00Z") != 0)
            #expect(try await sim.send(.get, "/v2/orders/customer-orders?payment_time_begin=garbage", as: .standard).status == 400)
            #expect(try await sim.send(.get, "/v2/orders/customer-orders?order_by=-CREATETIME", as: .standard).status == 200)
            #expect(try await sim.send(.get, "/v2/orders/customer-orders?order_by=", as: .standard).status == 200)
            let listed = try await sim.send(.get, "/v2/orders/customer-orders?order_type=4&status=5", as: .standard)
            #expect(listed.json?["total_count"] == 1)

            let done = try await unsubscribe(sim, ["q-old"])
            #expect(done.status == 400)
            #expect(done.errorCode == "CBC.30000067")
            let ledger = sim.simulator.ledger.all().filter { $0.api == "bss.unsubscribe" }
            #expect(ledger.map(\.outcome) == [.applied, .repeat, .repeat])
            #expect(ledger[0].money.feeCents > 0)
        }
    }

    @Test("partial failure: accepted ids ordered, refused ones in fail_resource_infos")
    func partial() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let reply = try await unsubscribe(sim, ["q-fresh", "q-unpaid"])
            #expect(reply.status == 200)
            #expect(reply.json?["order_ids"]?.arrayValue?.count == 1)
            let failure = reply.json?["fail_resource_infos"]?.arrayValue?.first
            #expect(failure?["resource_id"] == "q-unpaid")
            #expect(failure?["error_code"] == "CBC.30050010")
        }
    }

    @Test("refusals: unpaid order, package rule, too many ids, attached, bad body", arguments: [
        (#"{"resource_ids":["q-unpaid"],"unsubscribe_type":1}"#, 400, "CBC.30050010"),
        (#"{"resource_ids":["pkg-old"],"unsubscribe_type":1}"#, 400, "SIM.SecMaster.0001"),
        (#"{"resource_ids":["a","b","c","d","e","f","g","h","i","j","k"],"unsubscribe_type":1}"#, 400, "CBC.0100"),
        (#"{"resource_ids":["q-old"]}"#, 400, "CBC.0100"),
        (#"{"resource_ids":"q-old","unsubscribe_type":1}"#, 400, "CBC.0100"),
        (#"not json"#, 400, "CBC.0100"),
        (#"{"resource_ids":["ghost"],"unsubscribe_type":1}"#, 400, "CBC.30050009"),
    ])
    func refusals(body: String, status: Int, code: String) async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let reply = try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: .standard, body: body)
            #expect(reply.status == status)
            #expect(reply.errorCode == code)
            #expect(reply.json?["error_msg"]?.stringValue?.isEmpty == false)
            #expect(sim.simulator.ledger.all().first?.outcome == .rejected)
        }
    }

    @Test("configurable error status and already-unsubscribed code")
    func configurable() async throws {
        let simulator = try TestSeed.simulator(settings: #"{"bss_error_status": 200, "already_unsubscribed_code": "CBC.3124", "order_processing_seconds": 0, "order_refund_seconds": 0}"#)
        try await SimHarness.run(simulator) { sim in
            _ = try await unsubscribe(sim, ["q-old"])
            sim.simulator.clock.advance(by: 1)
            let reply = try await unsubscribe(sim, ["q-old"])
            #expect(reply.status == 200)
            #expect(reply.errorCode == "CBC.3124")
        }
    }

    @Test("resource query on the misspelt path with filters and paging")
    func query() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let all = try await sim.send(.post, "/v2/orders/suscriptions/resources/query", as: .nodes, body: #"{"limit":10}"#)
            #expect(all.status == 200)
            #expect(all.json?["total_count"] == 3)  // monthly server + its EIP and disk
            #expect(try await sim.send(.post, "/v2/orders/suscriptions/resources/query", as: .nodes, body: #"{"only_main_resource":2}"#).status == 400)
            let main = try await sim.send(.post, "/v2/orders/suscriptions/resources/query", as: .nodes, body: #"{"only_main_resource":1}"#)
            #expect(main.json?["total_count"] == 1)
            let item = main.json?["data"]?.arrayValue?.first
            #expect(item?["resource_id"] == "srv-monthly")
            #expect(item?["is_main_resource"] == 1)
            #expect(item?["status"] == 2)
            let paged = try await sim.send(.post, "/v2/orders/suscriptions/resources/query", as: .nodes, body: #"{"limit":1,"offset":1}"#)
            #expect(paged.json?["data"]?.arrayValue?.count == 1)
            let correct = try await sim.send(.post, "/v2/orders/subscriptions/resources/query", as: .nodes, body: "{}")
            #expect(correct.status == 404)  // the correctly spelt path does not exist
        }
    }

    @Test("auto-renew on and off: 204; pay-per-use resource refused")
    func autoRenew() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let on = try await sim.send(.post, "/v2/orders/subscriptions/resources/autorenew/q-old", as: .standard, body: "{}")
            #expect(on.status == 204)
            let off = try await sim.send(.delete, "/v2/orders/subscriptions/resources/autorenew/q-old", as: .standard)
            #expect(off.status == 204)
            let refused = try await sim.send(.post, "/v2/orders/subscriptions/resources/autorenew/pro-quota", as: .pro, body: "{}")
            #expect(refused.status == 400)
            #expect(sim.simulator.ledger.all().map(\.outcome) == [.applied, .applied, .rejected])
        }
    }

    @Test("unknown order is a parameter error")
    func unknownOrder() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let reply = try await sim.send(.get, "/v2/orders/customer-orders/details/CS000", as: .standard)
            #expect(reply.status == 400)
            #expect(reply.errorCode == "CBC.0100")
            let missing = try await sim.send(.get, "/v2/orders/customer-orders/refund-orders", as: .standard)
            #expect(missing.status == 400)
        }
    }
}
