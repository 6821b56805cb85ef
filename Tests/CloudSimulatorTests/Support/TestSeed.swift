import CloudSimulator
import Foundation
import Logging

/// The accounts used by the tests, as seed JSON (the same format operators write).
enum TestSeed {
    static let standardProject = "p-standard-0001"
    static let proProject = "p-pro-0001"
    static let nodesProject = "p-nodes-0001"

    static func json(settings: String = "{}", faults: String = "[]") -> String {
        """
        {
          "settings": \(settings),
          "faults": \(faults),
          "accounts": [
            {
              "name": "standard", "domain_id": "dom-standard", "project_ids": ["\(standardProject)"],
              "access_key": "AKSTANDARD", "secret_key": "SKSTANDARD", "auth_token": "token-standard",
              "secmaster": [
                {"resource_id": "q-old", "kind": "quota", "spec": "standard", "charging_mode": "prepaid", "size": 10,
                 "purchased": "-100d", "term": "1y", "paid_amount": 3650},
                {"resource_id": "pkg-old", "kind": "package", "spec": "log_analysis", "charging_mode": "prepaid",
                 "purchased": "-100d", "term": "1y", "paid_amount": 365},
                {"resource_id": "q-fresh", "kind": "quota", "spec": "standard", "charging_mode": "prepaid", "size": 5,
                 "purchased": "-2d", "term": "1y", "paid_amount": 1000},
                {"resource_id": "q-unpaid", "kind": "quota", "spec": "standard", "charging_mode": "prepaid",
                 "purchased": "-10d", "term": "1y", "paid_amount": 100, "unpaid_order": true}
              ]
            },
            {
              "name": "pro", "domain_id": "dom-pro", "project_ids": ["\(proProject)"],
              "access_key": "AKPRO", "secret_key": "SKPRO", "full_refunds_used": 10,
              "secmaster": [
                {"resource_id": "pro-quota", "kind": "quota", "spec": "professional", "charging_mode": "postpaid", "size": 100},
                {"resource_id": "pro-soar", "kind": "package", "spec": "soar", "charging_mode": "postpaid"},
                {"resource_id": "pro-collect", "kind": "package", "spec": "log_collection", "charging_mode": "postpaid"},
                {"resource_id": "pro-prepaid-fresh", "kind": "quota", "spec": "standard", "charging_mode": "prepaid",
                 "purchased": "-1d", "term": "1y", "paid_amount": 1000}
              ]
            },
            {
              "name": "nodes", "domain_id": "dom-nodes", "project_ids": ["\(nodesProject)"],
              "access_key": "AKNODES", "secret_key": "SKNODES",
              "servers": [
                {"id": "srv-payg-1", "charging_mode": "postpaid", "vpc_id": "vpc-a", "private_ip": "10.0.0.1",
                 "public_ips": [{"id": "eip-1", "address": "100.64.0.1", "delete_on_termination": false}], "data_volumes": ["vol-1"]},
                {"id": "srv-payg-2", "charging_mode": "postpaid", "vpc_id": "vpc-a", "private_ip": "10.0.0.2"},
                {"id": "srv-monthly", "charging_mode": "prepaid", "vpc_id": "vpc-a", "private_ip": "10.0.0.3",
                 "purchased": "-40d", "term": "3m", "paid_amount": 300, "public_ips": [{"id": "eip-m"}], "data_volumes": ["vol-m"]}
              ],
              "endpoints": [
                {"id": "ep-1", "vpc_id": "vpc-a", "service_name": "cn-north-4.secmaster.collector", "created": "-3d"},
                {"id": "ep-2", "vpc_id": "vpc-a", "service_name": "cn-north-4.secmaster.collector", "created": "-2d"},
                {"id": "ep-3", "vpc_id": "vpc-b", "service_name": "cn-north-4.other.service", "created": "-1d"}
              ],
              "workspaces": [
                {"id": "ws-1", "name": "main", "nodes": [
                  {"node_id": "node-1", "node_name": "collector-1", "vpc_endpoint_id": "ep-1"},
                  {"node_id": "node-2", "node_name": "collector-2", "vpc_endpoint_id": "ep-2"}
                ]}
              ]
            }
          ]
        }
        """
    }

    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    static func state(settings: String = "{}", now: Date = start) throws -> CloudState {
        try SeedLoader.load(data: Data(json(settings: settings).utf8), name: "test-seed", now: now).state
    }

    static let quietLogger = Logger(label: "cloudsim-test") { _ in SwiftLogNoOpLogHandler() }

    static func simulator(settings: String = "{}", faults: String = "[]") throws -> Simulator {
        let clock = SimulatedClock(frozen: true)
        let data = Data(json(settings: settings, faults: faults).utf8)
        let loaded = try SeedLoader.load(data: data, name: "test-seed", now: clock.now())
        return Simulator(state: loaded.state, faults: loaded.faults, clock: clock, seedData: data, seedName: "test-seed", logger: quietLogger)
    }

    static func index(_ state: CloudState, _ name: String) -> Int {
        state.accounts.firstIndex { $0.name == name }!
    }
}
