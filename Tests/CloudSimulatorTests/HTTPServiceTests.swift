import CloudSimulator
import Foundation
import Testing

@Suite("HTTP: ECS, VPCEP and SecMaster", .serialized)
struct HTTPServiceTests {
    let ecs = "/v1/\(TestSeed.nodesProject)"
    let vpcep = "/v1/\(TestSeed.nodesProject)/vpc-endpoints"
    let secmaster = "/v1/\(TestSeed.proProject)/subscriptions/orders"

    @Test("ECS: delete → job INIT → RUNNING → SUCCESS with sub-jobs; server DELETED briefly, then 404 Ecs.0114")
    func ecsDelete() async throws {
        try await SimHarness.run(try TestSeed.simulator(settings: #"{"ecs_job_run_seconds_min": 2, "ecs_job_run_seconds_max": 2}"#)) { sim in
            let listed = try await sim.send(.get, ecs + "/cloudservers/detail", as: .nodes)
            #expect(listed.json?["count"] == 3)
            let macs = listed.json?["servers"]?.arrayValue?.compactMap { $0["addresses"]?.objectValue?.first?.1.arrayValue?.first?["OS-EXT-IPS-MAC:mac_addr"]?.stringValue } ?? []
            #expect(macs.count == 3 && Set(macs).count == 3, "one MAC per server: \(macs)")
            #expect(listed.json?["servers"]?.arrayValue?.first?["metadata"]?["charging_mode"] == "0")
            let accepted = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes,
                                              body: #"{"servers":[{"id":"srv-payg-1"},{"id":"srv-payg-2"},{"id":"srv-payg-1"}],"delete_publicip":true,"delete_volume":true}"#)
            #expect(accepted.status == 200)
            let jobID = try #require(accepted.json?["job_id"]?.stringValue)
            func job() async throws -> JSON? { try await sim.send(.get, ecs + "/jobs/\(jobID)", as: .nodes).json }
            #expect(try await job()?["status"] == "INIT")
            sim.simulator.clock.advance(by: 1)
            #expect(try await job()?["status"] == "RUNNING")
            sim.simulator.clock.advance(by: 1.6)
            let finished = try await job()
            #expect(finished?["status"] == "SUCCESS")
            #expect(finished?["entities"]?["sub_jobs_total"] == 2)
            #expect(finished?["entities"]?["sub_jobs"]?.arrayValue?.compactMap { $0["entities"]?["server_id"]?.stringValue }.sorted() == ["srv-payg-1", "srv-payg-2"])
            let lingering = try await sim.send(.get, ecs + "/cloudservers/srv-payg-1", as: .nodes)
            #expect(lingering.status == 200)
            #expect(lingering.json?["server"]?["status"] == "DELETED")
            sim.simulator.clock.advance(by: 1)
            let gone = try await sim.send(.get, ecs + "/cloudservers/srv-payg-1", as: .nodes)
            #expect(gone.status == 404)
            #expect(gone.json == ["error": ["code": "Ecs.0114", "message": "Instance[srv-payg-1] could not be found."]])
            sim.simulator.clock.advance(by: 86_400)
            let purged = try await sim.send(.get, ecs + "/jobs/\(jobID)", as: .nodes)
            #expect(purged.status == 404)
            #expect(purged.json?["error"]?["code"] != nil)
        }
    }

    @Test("ECS: prepaid server refused (nested body), unknown server fails its sub-job, >1000 refused")
    func ecsRefusals() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let prepaid = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: #"{"servers":[{"id":"srv-monthly"}]}"#)
            #expect(prepaid.status == 400)
            #expect(prepaid.json?["error"]?["code"] == "Ecs.0000")
            let ghost = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: #"{"servers":[{"id":"ghost"}]}"#)
            let jobID = try #require(ghost.json?["job_id"]?.stringValue)
            sim.simulator.clock.advance(by: 10)
            let job = try await sim.send(.get, ecs + "/jobs/\(jobID)", as: .nodes).json
            #expect(job?["status"] == "FAIL")
            #expect(job?["entities"]?["sub_jobs"]?.arrayValue?.first?["error_code"] == "Ecs.0114")
            let many = (0..<1001).map { #"{"id":"s\#($0)"}"# }.joined(separator: ",")
            let tooMany = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: #"{"servers":[\#(many)]}"#)
            #expect(tooMany.status == 400)
            let missing = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: "{}")
            #expect(missing.status == 400)
            #expect(missing.json?["error"]?["code"] == "Ecs.0005")
        }
    }

    @Test("ECS: fail_subjob mode accepts a prepaid server and fails its sub-job")
    func ecsFailSubjobMode() async throws {
        try await SimHarness.run(try TestSeed.simulator(settings: #"{"ecs_prepaid_delete": "fail_subjob"}"#)) { sim in
            let reply = try await sim.send(.post, ecs + "/cloudservers/delete", as: .nodes, body: #"{"servers":[{"id":"srv-monthly"}]}"#)
            #expect(reply.status == 200)
            sim.simulator.clock.advance(by: 10)
            let job = try await sim.send(.get, ecs + "/jobs/\(reply.json?["job_id"]?.stringValue ?? "")", as: .nodes).json
            #expect(job?["status"] == "FAIL")
        }
    }

    @Test("VPCEP: list filters and paging, show, delete 204 → deleting → 404 EndPoint.0005")
    func vpcepFlow() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let byVPC = try await sim.send(.get, vpcep + "?vpc_id=vpc-a", as: .nodes)
            #expect(byVPC.json?["total_count"] == 2)
            let byName = try await sim.send(.get, vpcep + "?endpoint_service_name=SECMASTER", as: .nodes)
            #expect(byName.json?["total_count"] == 2)
            let byID = try await sim.send(.get, vpcep + "?id=ep-3", as: .nodes)
            #expect(byID.json?["endpoints"]?.arrayValue?.first?["id"] == "ep-3")
            let paged = try await sim.send(.get, vpcep + "?limit=1&offset=1&sort_dir=asc", as: .nodes)
            #expect(paged.json?["total_count"] == 3)
            #expect(paged.json?["endpoints"]?.arrayValue?.map { $0["id"] } == ["ep-2"])
            #expect(try await sim.send(.get, vpcep + "?sort_dir=sideways", as: .nodes).status == 400)
            #expect(try await sim.send(.get, vpcep + "?vpc_id=", as: .nodes).json?["total_count"] == 3, "an empty filter is none")
            let badLimit = try await sim.send(.get, vpcep + "?limit=1001", as: .nodes)
            #expect(badLimit.status == 400)
            #expect(badLimit.errorCode == "EndPoint.0006")

            let deleted = try await sim.send(.delete, vpcep + "/ep-1", as: .nodes)
            #expect(deleted.status == 204)
            #expect(deleted.json == nil)
            let deleting = try await sim.send(.get, vpcep + "/ep-1", as: .nodes)
            #expect(deleting.json?["status"] == "deleting")
            sim.simulator.clock.advance(by: 2)
            let gone = try await sim.send(.get, vpcep + "/ep-1", as: .nodes)
            #expect(gone.status == 404)
            #expect(gone.json?["error_code"] == "EndPoint.0005")
            let again = try await sim.send(.delete, vpcep + "/ep-1", as: .nodes)
            #expect(again.status == 404)
            #expect(sim.simulator.ledger.all().map(\.outcome) == [.applied, .repeat])
        }
    }

    @Test("VPCEP: delete status is configurable (200)")
    func vpcepStatus200() async throws {
        try await SimHarness.run(try TestSeed.simulator(settings: #"{"vpcep_delete_status": 200}"#)) { sim in
            let reply = try await sim.send(.delete, vpcep + "/ep-2", as: .nodes)
            #expect(reply.status == 200)
        }
    }

    @Test("SecMaster: list pages, X-Language required, delete 204 with cascade, prepaid 400, unknown 404")
    func secmasterFlow() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let language = [("X-Language", "en-us")]
            let noLanguage = try await sim.send(.get, secmaster, as: .pro)
            #expect(noLanguage.status == 400)
            #expect(try await sim.send(.get, secmaster + "?page=RESOURCE_LIST", as: .pro, headers: [("X-Language", "fr-fr")]).status == 400)
            #expect(try await sim.send(.get, secmaster + "?page=RESOURCE_LIST", as: .pro, headers: [("X-Language", "EN-US")]).status == 200)
            let list = try await sim.send(.get, secmaster + "?page=RESOURCE_LIST", as: .pro, headers: language)
            #expect(list.json?["csb_version"] == "PROFESSIONAL")
            #expect(list.json?["resources"]?.arrayValue?.count == 4)
            let prepaid = list.json?["resources"]?.arrayValue?.first { $0["charging_mode"] == "PREPAID" }
            #expect(prepaid?["order_id"]?.stringValue?.hasPrefix("CS") == true)
            #expect(prepaid?["expire_time"]?.intValue != nil)
            let defaultPage = try await sim.send(.get, secmaster, as: .pro, headers: language)
            #expect(defaultPage.json?["resources"]?.arrayValue?.count == 2)  // packages only on the other pages

            let empty = try await sim.send(.delete, secmaster, as: .pro, body: #"{"resource_ids":[]}"#, headers: language)
            #expect(empty.status == 400, "an empty list names nothing to cancel")
            let refused = try await sim.send(.delete, secmaster, as: .pro, body: #"{"resource_ids":["pro-soar"]}"#, headers: language)
            #expect(refused.status == 400)
            #expect(refused.errorCode == "SIM.SecMaster.0001")
            let prepaidDelete = try await sim.send(.delete, secmaster, as: .pro, body: #"{"resource_ids":["pro-prepaid-fresh"]}"#, headers: language)
            #expect(prepaidDelete.status == 400)
            let deleted = try await sim.send(.delete, secmaster, as: .pro, body: #"{"resource_ids":["pro-quota"]}"#, headers: language)
            #expect(deleted.status == 204)
            let after = try await sim.send(.get, secmaster + "?page=RESOURCE_LIST", as: .pro, headers: language)
            #expect(after.json?["resources"]?.arrayValue?.count == 1)
            #expect(after.json?["csb_version"] == "STANDARD")
            let unknown = try await sim.send(.delete, secmaster, as: .pro, body: #"{"resource_ids":["pro-quota"]}"#, headers: language)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "SIM.SecMaster.0404")
            let entry = sim.simulator.ledger.all().first { $0.outcome == .applied }
            #expect(entry?.effects.filter(\.changed).count == 3)
        }
    }

    @Test("SecMaster: workspaces, nodes with vpc_endpoint_id, node deletion keeps servers and endpoints")
    func workspacesAndNodes() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let base = "/v1/\(TestSeed.nodesProject)/workspaces"
            let workspaces = try await sim.send(.get, base, as: .nodes)
            #expect(workspaces.json?["count"] == 1)
            #expect(workspaces.json?["workspaces"]?.arrayValue?.first?["id"] == "ws-1")
            let nodes = try await sim.send(.get, base + "/ws-1/nodes?limit=10&offset=0", as: .nodes)
            #expect(nodes.json?["count"] == 2)
            #expect(nodes.json?["records"]?.arrayValue?.map { $0["vpc_endpoint_id"] } == ["ep-1", "ep-2"])
            let byNameDescending = try await sim.send(.get, base + "/ws-1/nodes?sort_key=node_id&sort_dir=desc", as: .nodes)
            #expect(byNameDescending.json?["records"]?.arrayValue?.map { $0["node_id"] } == ["node-2", "node-1"])
            #expect(try await sim.send(.get, base + "/ws-1/nodes?sort_key=bogus", as: .nodes).status == 400)
            // The SDKs type sort_key as an integer: accepted, creation order.
            #expect(try await sim.send(.get, base + "/ws-1/nodes?sort_key=1", as: .nodes).status == 200)
            // Workspaces by id list; filters without data here are refused, not ignored.
            #expect(try await sim.send(.get, base + "?ids=nope", as: .nodes).json?["count"] == 0)
            #expect(try await sim.send(.get, base + "?ids=nope,ws-1", as: .nodes).json?["count"] == 1)
            #expect(try await sim.send(.get, base + "?view_bind_id=v-1", as: .nodes).status == 400)
            let deleted = try await sim.send(.delete, base + "/ws-1/nodes", as: .nodes, body: #"{"delete_ids":["node-1","nope"]}"#)
            #expect(deleted.status == 200)
            #expect(deleted.json?["delete_success_list"]?.arrayValue?.count == 1)
            #expect(deleted.json?["delete_fail_list"]?.arrayValue?.count == 1)
            #expect(try await sim.send(.get, vpcep + "/ep-1", as: .nodes).status == 200)
            let missingWorkspace = try await sim.send(.get, base + "/ws-x/nodes", as: .nodes)
            #expect(missingWorkspace.status == 404)
        }
    }
}

@Suite("HTTP: list variants", .serialized)
struct HTTPListVariantTests {
    @Test("ECS list: filters and page-number paging; show of an unknown server is 404 Ecs.0114")
    func ecsList() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let base = "/v1/\(TestSeed.nodesProject)/cloudservers"
            let page2 = try await sim.send(.get, base + "/detail?limit=2&offset=2", as: .nodes)
            #expect(page2.json?["count"] == 3)
            #expect(page2.json?["servers"]?.arrayValue?.count == 1)
            let byIP = try await sim.send(.get, base + "/detail?ip=10.0.0.2", as: .nodes)
            #expect(byIP.json?["servers"]?.arrayValue?.first?["id"] == "srv-payg-2")
            let byStatus = try await sim.send(.get, base + "/detail?status=SHUTOFF", as: .nodes)
            #expect(byStatus.json?["count"] == 0)
            let unknown = try await sim.send(.get, base + "/nope", as: .nodes)
            #expect(unknown.status == 404)
            #expect(unknown.json?["error"]?["code"] == "Ecs.0114")
            let badLimit = try await sim.send(.get, base + "/detail?limit=abc", as: .nodes)
            #expect(badLimit.status == 400)
            #expect(badLimit.json?["error"]?["code"] == "Ecs.0005")
            // An exact address (`ip` is a prefix: 10.0.0.1 would also match 10.0.0.10…), paging by marker,
            // `server_id` over the other filters, unmodelled filters refused, empty values no filter.
            func ids(_ query: String) async throws -> [String] {
                try await sim.send(.get, base + "/detail?" + query, as: .nodes).json?["servers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }
            #expect(try await ids("ip_eq=10.0.0.3") == ["srv-monthly"])
            #expect(try await ids("ip_eq=10.0.0") == [])
            let all = try await ids("limit=10")
            #expect(all.count == 3)
            #expect(try await ids("limit=1&marker=\(all[0])") == [all[1]])
            #expect(try await ids("limit=5&marker=\(all[2])") == [])
            #expect(try await sim.send(.get, base + "/detail?marker=nope", as: .nodes).status == 400)
            #expect(try await ids("server_id=srv-payg-1&name=zzz") == ["srv-payg-1"])
            #expect(try await ids("name=") == all)
            for unmodelled in ["flavor=s6.large", "tags=env%3Dprod", "not-tags=x", "reservation_id=r-1"] {
                let refused = try await sim.send(.get, base + "/detail?" + unmodelled, as: .nodes)
                #expect(refused.status == 400, "\(unmodelled)")
            }
            #expect(try await sim.send(.get, base + "/detail?offset=-1", as: .nodes).status == 400)
        }
    }

    @Test("SecMaster list pages: PURCHASE has ecs_count, USAGE has usages, SMN has subscriptions; bad page is 400")
    func secmasterPages() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let base = "/v1/\(TestSeed.proProject)/subscriptions/orders?page="
            let language = [("X-Language", "zh-cn")]
            let purchase = try await sim.send(.get, base + "PURCHASE", as: .pro, headers: language)
            #expect(purchase.json?["ecs_count"] == 150)  // 100 + the prepaid quota's default size 50
            let usage = try await sim.send(.get, base + "USAGE", as: .pro, headers: language)
            #expect(usage.json?["resources"]?.arrayValue?.first?["usages"]?.arrayValue?.count == 1)
            let smn = try await sim.send(.get, base + "SMN", as: .pro, headers: language)
            #expect(smn.json?["subscription_count"] == 0)
            let bad = try await sim.send(.get, base + "EVERYTHING", as: .pro, headers: language)
            #expect(bad.status == 400)
        }
    }

    @Test("BSS list orders: purchase orders are listed, newest first by default, ascending on request")
    func bssOrders() async throws {
        try await SimHarness.run(try TestSeed.simulator()) { sim in
            let all = try await sim.send(.get, "/v2/orders/customer-orders?limit=10", as: .standard)
            // 4 purchases plus the pending-payment renewal of q-unpaid.
            #expect(all.json?["total_count"] == 5)
            let pending = try await sim.send(.get, "/v2/orders/customer-orders?status=6", as: .standard)
            #expect(pending.json?["total_count"] == 1)
            let ascending = try await sim.send(.get, "/v2/orders/customer-orders?order_by=createTime&limit=1", as: .standard)
            let descending = try await sim.send(.get, "/v2/orders/customer-orders?limit=1", as: .standard)
            #expect(ascending.json?["order_infos"]?.arrayValue?.first?["order_id"] != descending.json?["order_infos"]?.arrayValue?.first?["order_id"])
        }
    }
}
