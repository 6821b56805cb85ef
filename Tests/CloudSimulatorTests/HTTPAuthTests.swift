import CloudSimulator
import Foundation
import Testing

/// Authentication, scoping, throttling and request ids over real loopback HTTP.
@Suite("HTTP: gateway behaviour", .serialized)
struct HTTPAuthTests {
    let endpoints = "/v1/\(TestSeed.nodesProject)/vpc-endpoints"

    @Test("signed like the Python SDK (host, content-type) and like the Go SDK (x-sdk-date only) are accepted")
    func signedRequests() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let python = try await sim.send(.get, endpoints, as: .nodes, headers: [("X-Project-Id", TestSeed.nodesProject)])
            #expect(python.status == 200)
            #expect(python.json?["total_count"] == 3)
            let go = try await sim.send(.get, endpoints + "?limit=1", as: .nodes, signing: .go)
            #expect(go.status == 200)
            #expect(go.requestID?.isEmpty == false)
        }
    }

    @Test("unsigned, wrongly signed, stale and unknown-key requests get 401 APIGW.0301 with a request id")
    func rejected() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let unsigned = try await sim.send(.get, endpoints, signing: .none)
            let wrongKey = try await sim.send(.get, endpoints, as: .init(accessKey: "AKNODES", secretKey: "wrong"))
            let stale = try await sim.send(.get, endpoints, as: .nodes, dateOffset: -16 * 60)
            let future = try await sim.send(.get, endpoints, as: .nodes, dateOffset: 16 * 60)
            let unknown = try await sim.send(.get, endpoints, as: .init(accessKey: "AKNOBODY", secretKey: "x"))
            for reply in [unsigned, wrongKey, stale, future, unknown] {
                #expect(reply.status == 401)
                #expect(reply.errorCode == "APIGW.0301")
                #expect(reply.json?["error_msg"]?.stringValue?.hasPrefix("Incorrect IAM authentication information") == true)
                #expect(reply.requestID != nil)
            }
            #expect(wrongKey.json?["error_msg"]?.stringValue?.contains("verify aksk signature fail") == true)
            let withinSkew = try await sim.send(.get, endpoints, as: .nodes, dateOffset: -14 * 60)
            #expect(withinSkew.status == 200)
        }
    }

    @Test("with replay_protection on, a replayed mutating request (same signature) is rejected; the ledger shows it")
    func replay() async throws {
        try await SimHarness.run(try TestSeed.simulator(settings: #"{"replay_protection": "mutating"}"#)) { sim in
            let date = SdkDateNow.string()
            let first = try await sim.send(.delete, endpoints + "/ep-1", as: .nodes, sdkDate: date)
            let second = try await sim.send(.delete, endpoints + "/ep-1", as: .nodes, sdkDate: date)
            #expect(first.status == 204)
            #expect(second.status == 401)
            #expect(second.json?["error_msg"]?.stringValue?.contains("replayed") == true)
            let ledger = sim.simulator.ledger.all()
            #expect(ledger.map(\.outcome) == [.applied, .rejected])
        }
    }

    @Test("by default the same signed request sent again (an SDK's retry after a 503 or 429) is served, not refused")
    func identicalRetryIsServedByDefault() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let date = SdkDateNow.string()
            let first = try await sim.send(.delete, endpoints + "/ep-1", as: .nodes, sdkDate: date)
            let second = try await sim.send(.delete, endpoints + "/ep-1", as: .nodes, sdkDate: date)
            #expect(first.status == 204)
            #expect(second.status == 204, "deleting while deleting answers the success status again")
            #expect(sim.simulator.ledger.all().map(\.outcome) == [.applied, .repeat])
        }
    }

    @Test("a temporary access key needs its X-Security-Token, signed; without it, or with another, 401")
    func temporaryAccessKey() async throws {
        let data = Data(TestSeed.json(settings: "{}", faults: "[]")
            .replacingOccurrences(of: #""secret_key": "SKNODES","#, with: #""secret_key": "SKNODES", "security_token": "STS-nodes-1","#).utf8)
        let loaded = try SeedLoader.load(data: data, name: "test-seed", now: TestSeed.start)
        #expect(loaded.state.accounts[TestSeed.index(loaded.state, "nodes")].securityToken == "STS-nodes-1")
        let simulator = Simulator(state: loaded.state, faults: loaded.faults, clock: SimulatedClock(frozen: true), seedData: data,
                                  seedName: "test-seed", logger: TestSeed.quietLogger)
        try await SimHarness.run(simulator) { sim in
            let good = try await sim.send(.get, endpoints, as: .nodes, headers: [("X-Security-Token", "STS-nodes-1")])
            #expect(good.status == 200, "\(String(describing: good.json))")
            let missing = try await sim.send(.get, endpoints, as: .nodes)
            let other = try await sim.send(.get, endpoints, as: .nodes, headers: [("X-Security-Token", "STS-someone-else")])
            for (reply, fragment) in [(missing, "has no X-Security-Token"), (other, "does not belong to the access key")] {
                #expect(reply.status == 401 && reply.errorCode == "APIGW.0301")
                #expect(reply.json?["error_msg"]?.stringValue?.contains(fragment) == true, "\(String(describing: reply.json))")
            }
        }
        #expect(throws: SeedError.self) {
            try SeedLoader.load(data: Data(TestSeed.json(settings: "{}", faults: "[]")
                .replacingOccurrences(of: #""secret_key": "SKNODES","#, with: #""secret_key": "SKNODES", "security_token": "","#).utf8),
                name: "test-seed", now: TestSeed.start)
        }
    }

    @Test("token authentication (X-Auth-Token) is accepted; a bad token is 401")
    func token() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let good = try await sim.send(.get, "/v2/orders/customer-orders", headers: [("X-Auth-Token", "token-standard")], signing: .none)
            #expect(good.status == 200)
            let bad = try await sim.send(.get, "/v2/orders/customer-orders", headers: [("X-Auth-Token", "nope")], signing: .none)
            #expect(bad.status == 401)
            #expect(bad.errorCode == "APIGW.0301")
        }
    }

    @Test("another account's project, a mismatched X-Project-Id or X-Domain-Id is 403")
    func scope() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let other = try await sim.send(.get, "/v1/\(TestSeed.proProject)/vpc-endpoints", as: .nodes)
            #expect(other.status == 403)
            #expect(other.errorCode == "APIGW.0302")
            let header = try await sim.send(.get, endpoints, as: .nodes, headers: [("X-Project-Id", "someone-else")])
            #expect(header.status == 403)
            let domain = try await sim.send(.get, "/v2/orders/customer-orders", as: .standard, headers: [("X-Domain-Id", "dom-pro")])
            #expect(domain.status == 403)
            let right = try await sim.send(.get, "/v2/orders/customer-orders", as: .standard, headers: [("X-Domain-Id", "dom-standard")])
            #expect(right.status == 200)
        }
    }

    @Test("an oversized body is 413 APIGW.0201 with a request id")
    func oversized() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let big = "{\"x\":\"" + String(repeating: "a", count: 4 * 1024 * 1024 + 10) + "\"}"
            let reply = try await sim.send(.post, "/v2/orders/subscriptions/resources/unsubscribe", as: .standard, body: big)
            #expect(reply.status == 413)
            #expect(reply.errorCode == "APIGW.0201")
            #expect(reply.requestID != nil)
        }
    }

    @Test("unknown API path is 404 APIGW.0101")
    func unknownPath() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let reply = try await sim.send(.get, "/v3/whatever", as: .nodes)
            #expect(reply.status == 404)
            #expect(reply.errorCode == "APIGW.0101")
            #expect(reply.requestID != nil)
        }
    }

    @Test("throttling: 429 APIGW.0308 with Retry-After per account and API; simulated time refills the bucket")
    func throttling() async throws {
        let simulator = try TestSeed.simulator(settings: #"{"rate_limits": {"vpcep.list_endpoints": 2}}"#)
        try await SimHarness.run(simulator) { sim in
            #expect(try await sim.send(.get, endpoints, as: .nodes).status == 200)
            #expect(try await sim.send(.get, endpoints, as: .nodes).status == 200)
            let limited = try await sim.send(.get, endpoints, as: .nodes)
            #expect(limited.status == 429)
            #expect(limited.errorCode == "APIGW.0308")
            #expect(limited.json?["error_msg"]?.stringValue == "The throttling threshold has been reached: policy user over ratelimit,limit:2,time:1 minute")
            #expect(limited.headers[.init("Retry-After")!] == "30")
            // Another API of the same account is not limited.
            #expect(try await sim.send(.get, endpoints + "/ep-1", as: .nodes).status == 200)
            sim.simulator.clock.advance(by: 30)
            #expect(try await sim.send(.get, endpoints, as: .nodes).status == 200)
        }
    }
}

enum SdkDateNow {
    static func string() -> String {
        HuaweiCloudSigningDate.format(Int64(Date().timeIntervalSince1970))
    }
}
