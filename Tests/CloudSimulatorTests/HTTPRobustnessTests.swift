import CloudSimulator
import Foundation
import Testing

/// Values an SDK user can send that used to crash the simulator, be silently ignored or be refused wrongly; and
/// terms that run out while it runs.
@Suite("HTTP: hostile values and running terms", .serialized)
struct HTTPRobustnessTests {
    static let ecs = "/v1/\(TestSeed.nodesProject)"
    static let query = "/v2/orders/suscriptions/resources/query"

    @Test("numbers beyond 64 bits and page offsets that overflow are a 400 or an empty page, never a crash")
    func hugeNumbers() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            for body in [#"{"limit": 100000000000000000000}"#, #"{"offset": 1e30}"#, #"{"limit": 1.5}"#] {
                let reply = try await sim.send(.post, Self.query, as: .nodes, body: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.json?["error_msg"]?.stringValue?.contains("64 bits") == true, "\(reply.json.map { "\($0)" } ?? "")")
            }
            let unsubscribe = try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: .standard,
                                                 body: #"{"resource_ids":["q-old"],"unsubscribe_type":100000000000000000000}"#)
            #expect(unsubscribe.status == 400)
            let pages = try await sim.send(.get, Self.ecs + "/cloudservers/detail?offset=10000000000000000&limit=1000", as: .nodes)
            #expect(pages.status == 200)
            #expect(pages.json?["servers"]?.arrayValue?.isEmpty == true)
            let wide = try await sim.send(.get, "/v2/orders/customer-orders?limit=9223372036854775807", as: .standard)
            #expect(wide.status == 200, "a limit of Int.max is just a big page")
            // Still serving.
            #expect(try await sim.send(.get, Self.ecs + "/cloudservers/detail", as: .nodes).status == 200)
        }
    }

    @Test("a filter that cannot be read is a 400 naming it, not an unfiltered answer")
    func unreadableFilters() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            for (query, name) in [("create_time_begin=garbage", "create_time_begin"), ("create_time_end=2026-13-01", "create_time_end"),
                                  ("order_by=bogus", "order_by"), ("offset=-1", "offset"), ("limit=-1", "limit")] {
                let reply = try await sim.send(.get, "/v2/orders/customer-orders?\(query)", as: .standard)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.json?["error_msg"]?.stringValue?.contains(name) == true, "\(query)")
            }
            let expiry = try await sim.send(.post, Self.query, as: .standard, body: #"{"expire_time_begin": "yesterday"}"#)
            #expect(expiry.status == 400)
            let statuses = try await sim.send(.post, Self.query, as: .standard, body: #"{"status_list": ["2"]}"#)
            #expect(statuses.status == 400)
            let good = try await sim.send(.get, "/v2/orders/customer-orders?create_time_begin=2020-01-01T00:00:00Z&order_by=createTime", as: .standard)
            #expect(good.status == 200)
        }
    }

    @Test("auto-renew of a resource being unsubscribed says so (in progress), not that it is gone")
    func autoRenewInFlight() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let placed = try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: .standard,
                                            body: #"{"resource_ids":["q-old"],"unsubscribe_type":1}"#)
            #expect(placed.status == 200)
            let renew = try await sim.send(.post, "/v2/orders/subscriptions/resources/autorenew/q-old", as: .standard, body: "{}")
            #expect(renew.errorCode == "CBC.30050011", "\(renew.json.map { "\($0)" } ?? "")")
        }
    }

    @Test("admin values that would push simulated time out of range are refused")
    func adminBounds() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let advance = try await sim.admin(.post, "/_sim/clock", body: #"{"advance_seconds": 1e300}"#)
            #expect(advance.status == 400)
            let scale = try await sim.admin(.post, "/_sim/clock", body: #"{"scale": 1e308}"#)
            #expect(scale.status == 400)
            let delay = try await sim.admin(.post, "/_sim/faults", body: #"{"api":"*","kind":"slow","delay_seconds":1e300}"#)
            #expect(delay.status == 400)
            let state = try await sim.admin(.get, "/_sim/state")
            #expect(state.status == 200)
        }
    }

    @Test("a term that runs out while the simulator runs: expired without auto-renew, renewed with it")
    func runningTerms() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            // q-old: bought 100 days ago for a year, no auto-renew. Turn auto-renew on for pkg-old.
            let on = try await sim.send(.post, "/v2/orders/subscriptions/resources/autorenew/pkg-old", as: .standard, body: "{}")
            #expect((200..<300).contains(on.status))
            sim.simulator.clock.advance(by: 270 * 86_400)  // q-old expired five days ago
            let listed = try await sim.send(.post, Self.query, as: .standard, body: #"{"resource_ids": ["q-old", "pkg-old"], "status_list": [2, 5]}"#)
            let byID = Dictionary(uniqueKeysWithValues: (listed.json?["data"]?.arrayValue ?? []).compactMap { item in
                item["resource_id"]?.stringValue.map { ($0, item) }
            })
            #expect(byID["q-old"]?["status"] == 5, "expired")
            #expect(byID["pkg-old"]?["status"] == 2, "renewed")
            let renewedUntil = try #require(byID["pkg-old"]?["expire_time"]?.stringValue)
            #expect(try Date(renewedUntil, strategy: .iso8601) > sim.simulator.clock.now(), "\(renewedUntil)")
            let expired = try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: .standard,
                                             body: #"{"resource_ids":["q-old"],"unsubscribe_type":1}"#)
            #expect(expired.errorCode == "CBC.30050009" || expired.json?["fail_resource_infos"]?.arrayValue?.first?["error_code"] == "CBC.30050009",
                    "\(expired.json.map { "\($0)" } ?? "")")
            let renewals = try await sim.send(.get, "/v2/orders/customer-orders?order_type=2&status=5", as: .standard)
            #expect(renewals.json?["total_count"] == 1, "one renewal order for pkg-old")
            let renewExpired = try await sim.send(.post, "/v2/orders/subscriptions/resources/autorenew/q-old", as: .standard, body: "{}")
            #expect(renewExpired.errorCode == "CBC.30050009", "auto-renew of an expired resource")
            // Past the retention period (15 days by default) BSS releases it: closed, and gone from SecMaster.
            let subscription = "/v1/\(TestSeed.standardProject)/subscriptions/orders?page=RESOURCE_LIST"
            func listedInSecMaster() async throws -> [String] {
                try await sim.send(.get, subscription, as: .standard, headers: [("X-Language", "en-us")]).json?["resources"]?.arrayValue?
                    .compactMap { $0["resource_id"]?.stringValue } ?? []
            }
            #expect(try await listedInSecMaster().contains("q-old"), "kept during the retention period")
            sim.simulator.clock.advance(by: 11 * 86_400)
            let released = try await sim.send(.post, Self.query, as: .standard, body: #"{"resource_ids": ["q-old"], "status_list": [2, 3, 5]}"#)
            #expect(released.json?["data"]?.arrayValue?.first?["status"] == 3, "closed once released")
            #expect(try await !listedInSecMaster().contains("q-old"))
        }
    }
}

@Suite("Route matching")
struct RouteMatcherTests {
    @Test("path parameters are percent-decoded, as SDKs encode them")
    func percentDecoded() throws {
        let match = try #require(RouteMatcher().match(method: "GET", path: "/v1/p-1/cloudservers/srv%2A1%20%28a%29"))
        #expect(match.api == .ecsShowServer)
        #expect(match.parameters["server_id"] == "srv*1 (a)")
        let literal = try #require(RouteMatcher().match(method: "GET", path: "/v1/p-1/cloudservers/detail"))
        #expect(literal.api == .ecsListServers)
    }
}
