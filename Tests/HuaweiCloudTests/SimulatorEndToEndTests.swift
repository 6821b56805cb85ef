import AsyncHTTPClient
import class CloudSimulator.SimulatedClock
import class CloudSimulator.Simulator
import enum CloudSimulator.SimulatorServer
import Foundation
@testable import HuaweiCloud
import HuaweiCloudSigning
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Every client method against the real simulator over loopback HTTP (seed deploy/cloudsim/seeds/all-kinds.json),
/// once on its happy path and once on an error path.
@Suite("Against the simulator")
struct SimulatorEndToEndTests {
    struct Account {
        var domainID: String
        var projectID: String
        var credentials: HuaweiCredentials
    }

    static let seedFile = TestSupport.repositoryRoot.appendingPathComponent("deploy/cloudsim/seeds/all-kinds.json").path

    static func account(_ name: String) throws -> Account {
        let data = try Data(contentsOf: URL(fileURLWithPath: seedFile))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let accounts = try #require(root["accounts"] as? [[String: Any]])
        let account = try #require(accounts.first { $0["name"] as? String == name })
        return Account(
            domainID: try #require(account["domain_id"] as? String),
            projectID: try #require((account["project_ids"] as? [String])?.first),
            credentials: HuaweiCredentials(accessKey: try #require(account["access_key"] as? String), secretKey: try #require(account["secret_key"] as? String)))
    }

    /// Starts a fresh simulator on a free port and gives `body` a client factory for it.
    static func withSimulator(
        settings extra: [String: any Sendable] = [:], securityTokens: [String: String] = [:],
        _ body: @Sendable (_ simulator: Simulator, _ client: @Sendable (Account, Duration) throws -> HuaweiCloudClient) async throws -> Void
    ) async throws {
        let simulator = try Simulator(seedFile: seedFile, clock: SimulatedClock(frozen: true), logger: TestSupport.quietLogger)
        // A `timeout` fault holds the request for `timeout_cap_seconds` (600 s in the seed), and the server's graceful
        // shutdown waits for it: cap it at 2 s for these tests, everything else as seeded.
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: seedFile))) as? [String: Any])
        var settings = root["settings"] as? [String: Any] ?? [:]
        settings["timeout_cap_seconds"] = 2
        settings.merge(extra) { $1 }
        root["settings"] = settings
        if !securityTokens.isEmpty, var accounts = root["accounts"] as? [[String: Any]] {
            for index in accounts.indices {
                if let name = accounts[index]["name"] as? String, let token = securityTokens[name] { accounts[index]["security_token"] = token }
            }
            root["accounts"] = accounts
        }
        try simulator.load(seedData: try JSONSerialization.data(withJSONObject: root), name: seedFile)
        let app = SimulatorServer.application(simulator: simulator, host: "127.0.0.1", port: 0, adminToken: nil, logger: TestSupport.quietLogger)
        try await app.test(.live) { testClient in
            let base = "http://127.0.0.1:\(testClient.port!)"
            try await body(simulator) { account, timeout in
                try TestSupport.client(baseURL: base, credentials: account.credentials, timeout: timeout)
            }
        }
    }

    static func addFault(_ simulator: Simulator, _ json: String) throws {
        let reply = simulator.handleAdmin(method: "POST", path: "/_sim/faults", query: "", body: Array(json.utf8))
        try #require(reply.status == 201)
    }

    /// The simulator rejects a repeated identical signature as a replay; identical mutating calls signed in the
    /// same second would look like one. Waiting for the next second mirrors a real retry, which comes later anyway.
    static func nextSecond() async throws {
        let now = Date().timeIntervalSince1970
        try await Task.sleep(for: .milliseconds(Int64((1 - (now - now.rounded(.down))) * 1000) + 20))
    }

    @Test("temporary credentials: the client sends and signs X-Security-Token, which the simulator requires")
    func temporaryCredentials() async throws {
        try await Self.withSimulator(securityTokens: ["prepaid-standard-old": "STS-token-1"]) { _, makeClient in
            var old = try Self.account("prepaid-standard-old")
            let permanentOnly = try makeClient(old, .seconds(60))
            await #expect {
                _ = try await permanentOnly.listSubscriptionResources(projectID: old.projectID)
            } throws: { error in
                "\(error)".contains("X-Security-Token") && !"\(error)".contains(old.credentials.secretKey)
            }
            old.credentials.securityToken = "STS-token-1"
            let temporary = try makeClient(old, .seconds(60))
            #expect(try await temporary.listSubscriptionResources(projectID: old.projectID).csbVersion.uppercased() == "STANDARD")
        }
    }

    @Test func secMaster() async throws {
        try await Self.withSimulator { simulator, makeClient in
            let old = try Self.account("prepaid-standard-old")
            let client = try makeClient(old, .seconds(60))
            let subscription = try await client.listSubscriptionResources(projectID: old.projectID)
            #expect(subscription.csbVersion.uppercased() == "STANDARD")
            #expect(Set(subscription.resources.map(\.resourceID)) == ["sm-old-quota", "sm-old-log-retention"])
            #expect(subscription.resources.allSatisfy { $0.chargingMode == .prepaid && $0.orderID != nil && $0.expireTime != nil })

            let pro = try Self.account("postpaid-professional")
            let proClient = try makeClient(pro, .seconds(60))
            let before = try await proClient.listSubscriptionResources(projectID: pro.projectID)
            #expect(before.resources.allSatisfy { $0.chargingMode == .postpaid })
            try await proClient.deletePayPerUseSubscriptions(projectID: pro.projectID, resourceIDs: ["sm-pro-quota"])
            let after = try await proClient.listSubscriptionResources(projectID: pro.projectID)
            #expect(!after.resources.contains { $0.resourceID == "sm-pro-quota" })
            // Error path: deleting it again is "already done".
            try await Self.nextSecond()
            let again = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await proClient.deletePayPerUseSubscriptions(projectID: pro.projectID, resourceIDs: ["sm-pro-quota"])
            })
            #expect(again.classification == .alreadyDone && again.httpStatus == 404)

            let nodes = try Self.account("collection-nodes")
            let nodesClient = try makeClient(nodes, .seconds(60))
            let workspaces = try await nodesClient.listWorkspaces(projectID: nodes.projectID)
            #expect(workspaces.map(\.id) == ["ws-nodes-0001"])
            let records = try await nodesClient.listCollectionNodes(projectID: nodes.projectID, workspaceID: "ws-nodes-0001")
            #expect(records.map(\.nodeID).sorted() == ["node-1", "node-2", "node-3"])
            #expect(records.contains { $0.vpcEndpointID == "22222222-0000-4000-8000-000000000001" })
            let missing = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await nodesClient.listCollectionNodes(projectID: nodes.projectID, workspaceID: "ws-missing")
            })
            #expect(missing.httpStatus == 404 && missing.classification == .permanent)
            // Error path for the workspace listing: a project of another account.
            let foreign = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await nodesClient.listWorkspaces(projectID: old.projectID)
            })
            #expect(foreign.httpStatus == 403 && foreign.classification == .permanent)
            // And for the subscription listing: wrong secret key.
            var wrong = old
            wrong.credentials.secretKey = "wrong-secret-key"
            let wrongClient = try makeClient(wrong, .seconds(60))
            let unauthenticated = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await wrongClient.listSubscriptionResources(projectID: old.projectID)
            })
            #expect(unauthenticated.code == "APIGW.0301" && unauthenticated.classification == .permanent)
            #expect(!unauthenticated.description.contains("wrong-secret-key"))
        }
    }

    @Test func bss() async throws {
        try await Self.withSimulator { simulator, makeClient in
            let old = try Self.account("prepaid-standard-old")
            let client = try makeClient(old, .seconds(60))
            let resources = try await client.queryCustomerResources(domainID: old.domainID, resourceIDs: [], onlyMainResource: false)
            #expect(Set(resources.map(\.resourceID)).isSuperset(of: ["sm-old-quota", "sm-old-log-retention"]))
            #expect(resources.allSatisfy { $0.status == CustomerResource.statusInUse })
            let filtered = try await client.queryCustomerResources(domainID: old.domainID, resourceIDs: ["sm-old-quota"], onlyMainResource: true)
            #expect(filtered.map(\.resourceID) == ["sm-old-quota"])
            // Error path: X-Domain-Id of another account is refused by the gateway.
            let foreignDomain = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.queryCustomerResources(domainID: "d0000000000000000000000000000001", resourceIDs: [], onlyMainResource: true)
            })
            #expect(foreignDomain.httpStatus == 403 && foreignDomain.classification == .permanent && foreignDomain.service == .bss)

            try await client.setAutoRenew(domainID: old.domainID, resourceID: "sm-old-log-retention", enabled: true)
            try await client.setAutoRenew(domainID: old.domainID, resourceID: "sm-old-log-retention", enabled: false)
            let unknownRenew = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await client.setAutoRenew(domainID: old.domainID, resourceID: "no-such-resource", enabled: false)
            })
            #expect(unknownRenew.service == .bss && unknownRenew.classification == .permanent)

            let result = try await client.unsubscribeResources(domainID: old.domainID, resourceIDs: ["sm-old-quota"], reasonType: 5, reason: "teardown")
            let orderID = try #require(result.orderIDs.first)
            #expect(result.failures.isEmpty)
            // Error path: the same resource again while its order is in flight (or already done).
            try await Self.nextSecond()
            let again = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.unsubscribeResources(domainID: old.domainID, resourceIDs: ["sm-old-quota"], reasonType: nil, reason: nil)
            })
            #expect(again.isRetryable || again.classification == .alreadyDone)
            #expect(["CBC.30050011", "CBC.99003651", "CBC.30000067", "CBC.3124"].contains(again.code ?? ""))

            let orders = try await client.listOrders(domainID: old.domainID, orderType: CustomerOrder.typeUnsubscribe, status: nil)
            #expect(orders.map(\.orderID).contains(orderID))
            let none = try await client.listOrders(domainID: old.domainID, orderType: 13, status: nil)
            #expect(none.isEmpty)
            // create_time_begin, in BSS's UTC format: the order just placed is in a window that starts before it,
            // and not in one that starts an hour later.
            let now = simulator.clock.now()
            let recent = try await client.listOrders(domainID: old.domainID, orderType: CustomerOrder.typeUnsubscribe, status: nil, createdSince: now.addingTimeInterval(-60))
            #expect(recent.map(\.orderID).contains(orderID))
            let later = try await client.listOrders(domainID: old.domainID, orderType: CustomerOrder.typeUnsubscribe, status: nil, createdSince: now.addingTimeInterval(3600))
            #expect(later.isEmpty)
            // Error path: a transient BSS failure injected through the admin API.
            try Self.addFault(simulator, #"{"api": "bss.list_orders", "kind": "error", "status": 503, "count": 1}"#)
            let unavailable = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.listOrders(domainID: old.domainID, orderType: nil, status: nil)
            })
            #expect(unavailable.httpStatus == 503 && unavailable.isRetryable)

            simulator.clock.advance(by: 3600)
            let details = try await client.orderDetails(domainID: old.domainID, orderID: orderID)
            #expect(details.orderID == orderID && details.isCompleted)
            #expect(details.commissionAmount != nil && details.consumedAmount != nil)
            let unknownOrder = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.orderDetails(domainID: old.domainID, orderID: "CS-NO-SUCH-ORDER")
            })
            #expect(unknownOrder.classification == .permanent)

            let refunds = try await client.refundOrders(domainID: old.domainID, orderID: orderID)
            #expect(!refunds.isEmpty)
            #expect(refunds.contains { $0.amount < 0 })
            let noRefunds = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.refundOrders(domainID: old.domainID, orderID: "CS-NO-SUCH-ORDER")
            })
            #expect(noRefunds.classification == .permanent)

            let unpaid = try Self.account("unpaid-order")
            let unpaidClient = try makeClient(unpaid, .seconds(60))
            let unpaidError = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await unpaidClient.unsubscribeResources(domainID: unpaid.domainID, resourceIDs: ["sm-unpaid-quota"], reasonType: nil, reason: nil)
            })
            #expect(unpaidError.code == "CBC.30050010" && unpaidError.classification == .permanent)
            #expect(unpaidError.hint?.contains("pay or cancel") == true)
            #expect(unpaidError.requestID != nil)
        }
    }

    @Test func ecs() async throws {
        try await Self.withSimulator { simulator, makeClient in
            let nodes = try Self.account("collection-nodes")
            let client = try makeClient(nodes, .seconds(60))
            let servers = try await client.listServers(projectID: nodes.projectID)
            #expect(servers.count == 3)
            let monthly = try #require(servers.first { $0.name == "collector-monthly-1" })
            #expect(monthly.chargingMode == .prepaid && monthly.vpcID == "vpc-collect" && !monthly.privateIPs.isEmpty)

            let paygID = "11111111-0000-4000-8000-000000000001"
            let server = try #require(try await client.showServer(projectID: nodes.projectID, serverID: paygID))
            #expect(server.chargingMode == .postpaid && server.status == "ACTIVE")
            #expect(try await client.showServer(projectID: nodes.projectID, serverID: "no-such-server") == nil)

            let jobID = try await client.deleteServers(projectID: nodes.projectID, serverIDs: [paygID], deletePublicIP: true, deleteVolume: false)
            let job = try #require(try await client.showJob(projectID: nodes.projectID, jobID: jobID))
            #expect(job.jobID == jobID && job.subJobs.map(\.serverID) == [paygID])
            simulator.clock.advance(by: 60)
            let finished = try #require(try await client.showJob(projectID: nodes.projectID, jobID: jobID))
            #expect(finished.status == .success)
            #expect(try await client.showJob(projectID: nodes.projectID, jobID: "no-such-job") == nil)

            // Error path: yearly/monthly servers cannot be deleted through ECS.
            let refused = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.deleteServers(projectID: nodes.projectID, serverIDs: [monthly.id], deletePublicIP: false, deleteVolume: false)
            })
            #expect(refused.service == .ecs && refused.httpStatus == 400 && refused.classification == .permanent)

            // Throttling injected through the admin API: retryable with the simulator's Retry-After.
            try Self.addFault(simulator, #"{"api": "ecs.list_servers", "kind": "error", "status": 429, "count": 1}"#)
            let throttled = try #require(await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listServers(projectID: nodes.projectID) })
            #expect(throttled.code == "APIGW.0308" && throttled.classification == .retryable(retryAfter: .seconds(2)))
        }
    }

    @Test func vpcep() async throws {
        try await Self.withSimulator { simulator, makeClient in
            let nodes = try Self.account("collection-nodes")
            let client = try makeClient(nodes, .seconds(60))
            let endpoints = try await client.listEndpoints(projectID: nodes.projectID, vpcID: "vpc-collect", limit: 2)
            #expect(endpoints.count == 3, "three endpoints in pages of two")
            let none = try await client.listEndpoints(projectID: nodes.projectID, vpcID: "vpc-nowhere", limit: 10)
            #expect(none.isEmpty)
            // Error path: a cloud-side failure in the middle of the pagination fails the whole listing.
            try Self.addFault(simulator, #"{"api": "vpcep.list_endpoints", "kind": "error", "status": 500, "count": 1, "skip": 1}"#)
            let broken = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await client.listEndpoints(projectID: nodes.projectID, vpcID: "vpc-collect", limit: 2)
            })
            #expect(broken.code == "EndPoint.0001" && broken.isRetryable)

            let id = "22222222-0000-4000-8000-000000000001"
            let endpoint = try #require(try await client.showEndpoint(projectID: nodes.projectID, endpointID: id))
            #expect(endpoint.id == id && endpoint.vpcID == "vpc-collect")
            try await client.deleteEndpoint(projectID: nodes.projectID, endpointID: id)
            #expect(try await client.showEndpoint(projectID: nodes.projectID, endpointID: id)?.status == "deleting")
            simulator.clock.advance(by: 600)
            #expect(try await client.showEndpoint(projectID: nodes.projectID, endpointID: id) == nil)
            try await Self.nextSecond()
            let again = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deleteEndpoint(projectID: nodes.projectID, endpointID: id)
            })
            #expect(again.code == "EndPoint.0005" && again.classification == .alreadyDone)

            // Transport faults injected through the admin API.
            try Self.addFault(simulator, #"{"api": "vpcep.show_endpoint", "kind": "timeout", "count": 1}"#)
            let slowClient = try makeClient(nodes, .milliseconds(700))
            let timedOut = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                _ = try await slowClient.showEndpoint(projectID: nodes.projectID, endpointID: "22222222-0000-4000-8000-000000000002")
            })
            #expect(timedOut.isRetryable && timedOut.message.contains("timeout"))
            try Self.addFault(simulator, #"{"api": "vpcep.delete_endpoint", "kind": "reset", "count": 1}"#)
            let reset = try #require(await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deleteEndpoint(projectID: nodes.projectID, endpointID: "22222222-0000-4000-8000-000000000002")
            })
            #expect(reset.isRetryable && reset.hint?.contains("may or may not have been applied") == true)
        }
    }
}
